import FuzzSupport

runFuzzer { data, size in fuzzCursorCodec(data, size) }
