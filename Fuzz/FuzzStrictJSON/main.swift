import FuzzSupport

runFuzzer { data, size in fuzzStrictJSON(data, size) }
