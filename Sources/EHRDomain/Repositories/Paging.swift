import Foundation

/// A request for one page of a list.
public struct PageRequest: Sendable, Equatable {
    public static let maximumLimit = 100
    public static let defaultLimit = 50

    public var limit: Int
    public var after: PageCursor?

    public init(limit: Int = PageRequest.defaultLimit, after: PageCursor? = nil) {
        self.limit = limit
        self.after = after
    }
}

/// One page of results and the cursor of the next page (nil on the last page).
public struct Page<Item: Sendable>: Sendable {
    public var items: [Item]
    public var next: PageCursor?

    public init(items: [Item], next: PageCursor?) {
        self.items = items
        self.next = next
    }
}

/// Keyset position: the sort key and id of the last item of a page. Opaque to clients.
public struct PageCursor: Sendable, Equatable {
    public var key: Date
    public var id: UUID

    public init(key: Date, id: UUID) {
        self.key = key
        self.id = id
    }

    /// The opaque wire form: base64url of `<milliseconds>:<uuid>`.
    public var token: String {
        let raw = "\(Int64((key.timeIntervalSince1970 * 1000).rounded())):\(id.uuidString.lowercased())"
        return Data(raw.utf8).base64EncodedString()
            .replacingOccurrences(of: "+", with: "-").replacingOccurrences(of: "/", with: "_")
            .replacingOccurrences(of: "=", with: "")
    }

    /// Parses a token made by ``token``; nil for anything else.
    public init?(token: String) {
        guard token.count <= 128 else { return nil }
        var b64 = token.replacingOccurrences(of: "-", with: "+").replacingOccurrences(of: "_", with: "/")
        while b64.count % 4 != 0 { b64 += "=" }
        guard let data = Data(base64Encoded: b64), let raw = String(data: data, encoding: .utf8) else { return nil }
        let parts = raw.split(separator: ":")
        guard parts.count == 2, let ms = Int64(parts[0]), let id = UUID(uuidString: String(parts[1])) else { return nil }
        self.key = Date(timeIntervalSince1970: Double(ms) / 1000)
        self.id = id
    }
}

/// Rounds a date to whole milliseconds, the precision every store keeps, so stored and returned values agree.
public func millisecondPrecision(_ date: Date) -> Date {
    Date(timeIntervalSince1970: (date.timeIntervalSince1970 * 1000).rounded() / 1000)
}
