import Foundation

/// Where an encrypted value lives; bound to its ciphertext as associated data so a
/// ciphertext copied to another tenant, table, column or row fails to decrypt.
public struct FieldContext: Sendable, Hashable {
    /// Owning tenant.
    public var tenantID: String
    /// Table name, e.g. `patients`.
    public var table: String
    /// Column name, e.g. `last_name`.
    public var column: String
    /// Primary key of the row.
    public var rowID: String

    /// Creates a context.
    public init(tenantID: String, table: String, column: String, rowID: String) {
        self.tenantID = tenantID
        self.table = table
        self.column = column
        self.rowID = rowID
    }

    /// Injective encoding of the context plus the ciphertext header, used as GCM associated data.
    func associatedData(header: Data) -> Data {
        var w = CanonicalWriter(domain: "ehr-field-v1")
        w.string(tenantID)
        w.string(table)
        w.string(column)
        w.string(rowID)
        w.data(header)
        return w.bytes
    }
}
