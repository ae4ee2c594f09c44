import FuzzSupport

runFuzzer { data, size in fuzzAuditCheckpoint(data, size) }
