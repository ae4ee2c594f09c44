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

/// Keyset position: the sort key and id of the last item of a page. The server hands it to clients
/// only as an authenticated opaque token (see `CursorCodec` in EHRWire).
public struct PageCursor: Sendable, Equatable {
    public var key: Date
    public var id: UUID

    public init(key: Date, id: UUID) {
        self.key = key
        self.id = id
    }
}

/// Rounds a date to whole milliseconds, the precision every store keeps, so stored and returned values agree.
public func millisecondPrecision(_ date: Date) -> Date {
    Date(timeIntervalSince1970: (date.timeIntervalSince1970 * 1000).rounded() / 1000)
}
