import FuzzSupport

runFuzzer { data, size in fuzzRFC3339(data, size) }
