import FuzzSupport

runFuzzer { data, size in fuzzFieldCipher(data, size) }
