import Crypto
import Foundation

#if canImport(CCryptoBoringSSL)
    import CCryptoBoringSSL
#endif

/// Opens and seals AES-256-GCM boxes under one key whose schedule is made once.
///
/// `AES.GCM.open` (and `seal`) builds a BoringSSL context (the key's schedule) for every call and reaches it through generic
/// `DataProtocol` code: each list row opens its encrypted fields, and under `bench/profile` that plumbing was about
/// nine tenths of the 3 µs an open took. On Linux (where swift-crypto is BoringSSL) this keeps one context per key
/// and calls BoringSSL's open with plain pointers; BoringSSL allows one context to be used by many threads at once.
/// Sealing a new note's sections went the same way (`AES.GCM.seal`: 1% of the server's CPU per note, the rest of
/// `FieldCipher.encrypt` 2% more in copies). Elsewhere (CryptoKit) it falls back to `AES.GCM`. `AESGCMContextTests`
/// holds both paths to the same bytes.
final class AESGCMContext: @unchecked Sendable {
    static let nonceSize = 12
    static let tagSize = 16

    #if canImport(CCryptoBoringSSL)
        // Allocated, not a stored struct: BoringSSL keeps the pointer's address, which a Swift property does not promise.
        private let context: UnsafeMutablePointer<EVP_AEAD_CTX>
    #else
        private let key: SymmetricKey
    #endif

    /// A context for `key` (256 bits), or nil when BoringSSL refuses it.
    init?(key: SymmetricKey) {
        #if canImport(CCryptoBoringSSL)
            context = .allocate(capacity: 1)
            let initialised = key.withUnsafeBytes { bytes in
                CCryptoBoringSSL_EVP_AEAD_CTX_init(
                    context, CCryptoBoringSSL_EVP_aead_aes_256_gcm(), bytes.bindMemory(to: UInt8.self).baseAddress, bytes.count,
                    Self.tagSize, nil)
            }
            guard initialised == 1 else {
                context.deallocate()
                return nil
            }
        #else
            self.key = key
        #endif
    }

    deinit {
        #if canImport(CCryptoBoringSSL)
            CCryptoBoringSSL_EVP_AEAD_CTX_cleanup(context)
            context.deallocate()
        #endif
    }

    /// The plaintext of `combined` (nonce | ciphertext | tag, GCM's combined form) authenticated with
    /// `authenticating`, or nil when it does not authenticate or is too short.
    func open(combined: UnsafeRawBufferPointer, authenticating: UnsafeRawBufferPointer) -> Data? {
        guard combined.count >= Self.nonceSize + Self.tagSize else { return nil }
        #if canImport(CCryptoBoringSSL)
            let sealed = combined.count - Self.nonceSize
            var plaintext = Data(count: sealed - Self.tagSize)
            var length = 0
            let opened = plaintext.withUnsafeMutableBytes { out in
                // A zero-length Data may have no address; BoringSSL writes nothing then, but wants a pointer.
                var spare: UInt8 = 0
                let bytes = combined.bindMemory(to: UInt8.self).baseAddress!
                return withUnsafeMutablePointer(to: &spare) { spare in
                    CCryptoBoringSSL_EVP_AEAD_CTX_open(
                        context, out.bindMemory(to: UInt8.self).baseAddress ?? spare, &length, out.count, bytes, Self.nonceSize,
                        bytes + Self.nonceSize, sealed, authenticating.bindMemory(to: UInt8.self).baseAddress, authenticating.count)
                }
            }
            guard opened == 1, length == plaintext.count else {
                CCryptoBoringSSL_ERR_clear_error()
                return nil
            }
            return plaintext
        #else
            guard let box = try? AES.GCM.SealedBox(combined: Data(combined)) else { return nil }
            return try? AES.GCM.open(box, using: key, authenticating: Data(authenticating))
        #endif
    }

    /// Seals `plaintext` with `nonce` (12 bytes, never used before under this key) and `authenticating`, writing
    /// ciphertext then tag (`plaintext.count + 16` bytes) at the start of `out`; false when BoringSSL refuses.
    func seal(
        _ plaintext: UnsafeRawBufferPointer, nonce: UnsafeRawBufferPointer, authenticating: UnsafeRawBufferPointer,
        into out: UnsafeMutableRawBufferPointer
    ) -> Bool {
        precondition(nonce.count == Self.nonceSize && out.count >= plaintext.count + Self.tagSize)
        #if canImport(CCryptoBoringSSL)
            var length = 0
            var spare: UInt8 = 0
            let sealed = withUnsafeMutablePointer(to: &spare) { spare in
                // Empty buffers may have no address; BoringSSL reads nothing from them but wants a pointer.
                CCryptoBoringSSL_EVP_AEAD_CTX_seal(
                    context, out.bindMemory(to: UInt8.self).baseAddress!, &length, out.count,
                    nonce.bindMemory(to: UInt8.self).baseAddress!, nonce.count,
                    plaintext.bindMemory(to: UInt8.self).baseAddress ?? UnsafePointer(spare), plaintext.count,
                    authenticating.bindMemory(to: UInt8.self).baseAddress ?? UnsafePointer(spare), authenticating.count)
            }
            guard sealed == 1, length == plaintext.count + Self.tagSize else {
                CCryptoBoringSSL_ERR_clear_error()
                return false
            }
            return true
        #else
            guard let nonce = try? AES.GCM.Nonce(data: Data(nonce)),
                let box = try? AES.GCM.seal(Data(plaintext), using: key, nonce: nonce, authenticating: Data(authenticating))
            else { return false }
            out.copyBytes(from: box.ciphertext)
            UnsafeMutableRawBufferPointer(rebasing: out[plaintext.count...]).copyBytes(from: box.tag)
            return true
        #endif
    }
}
