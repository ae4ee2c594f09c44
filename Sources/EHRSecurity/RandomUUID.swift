import Foundation
import Synchronization

#if canImport(Glibc)
    import Glibc
#endif

/// Random (version 4) UUIDs from a process-wide buffer of the kernel's random bytes, refilled 4 KiB at a time.
/// Foundation's `UUID()` on Linux opens, reads and closes `/dev/urandom` for every id (four system calls, one
/// per request for its request id in `strace -c` under `bench/profile`); here 256 ids share one read of it.
public enum RandomUUID {
    private static let pool = Mutex(Pool())

    /// A new random UUID (RFC 9562 version 4, variant 10).
    public static func make() -> UUID {
        var bytes: uuid_t = (0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0)
        withUnsafeMutableBytes(of: &bytes) { out in pool.withLock { $0.take(into: out) } }
        bytes.6 = (bytes.6 & 0x0F) | 0x40
        bytes.8 = (bytes.8 & 0x3F) | 0x80
        return UUID(uuid: bytes)
    }

    private struct Pool: ~Copyable {
        var buffer = [UInt8](repeating: 0, count: 4096)
        var used = 4096

        mutating func take(into out: UnsafeMutableRawBufferPointer) {
            if used + out.count > buffer.count {
                buffer.withUnsafeMutableBytes(Self.fill)
                used = 0
            }
            buffer.withUnsafeBytes { out.copyMemory(from: UnsafeRawBufferPointer(rebasing: $0[used..<used + out.count])) }
            // Bytes handed out are not kept: a later reader of the buffer learns nothing about earlier ids.
            buffer.withUnsafeMutableBytes { $0[used..<used + out.count].initializeMemory(as: UInt8.self, repeating: 0) }
            used += out.count
        }

        private static func fill(_ buffer: UnsafeMutableRawBufferPointer) {
            #if canImport(Glibc)
                var filled = 0
                while urandom >= 0, filled < buffer.count {
                    let result = read(urandom, buffer.baseAddress! + filled, buffer.count - filled)
                    if result > 0 {
                        filled += result
                    } else if result == 0 || errno != EINTR {
                        break
                    }
                }
                // Without the device (a sandbox without /dev) the standard library's generator fills the rest.
                var generator = SystemRandomNumberGenerator()
                for index in filled..<buffer.count { buffer[index] = UInt8.random(in: .min ... .max, using: &generator) }
            #else
                arc4random_buf(buffer.baseAddress!, buffer.count)
            #endif
        }

        #if canImport(Glibc)
            /// Opened once for the life of the process (close-on-exec).
            private static let urandom: Int32 = open("/dev/urandom", O_RDONLY | O_CLOEXEC)
        #endif
    }
}
