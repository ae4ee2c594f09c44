import CFuzzerDriver
import Foundation

/// Runs libFuzzer's loop on `test` with the process's arguments, then exits with its status.
///
/// SwiftPM links every executable with its Swift entry point renamed to `main`, which hides libFuzzer's own `main`;
/// so each target's `main.swift` calls this. The target still exports `LLVMFuzzerTestOneInput` for libFuzzer.
public func runFuzzer(_ test: @convention(c) (UnsafePointer<UInt8>?, Int) -> CInt) -> Never {
    var argc = CommandLine.argc
    var argv: UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>? = CommandLine.unsafeArgv
    exit(LLVMFuzzerRunDriver(&argc, &argv, test))
}
