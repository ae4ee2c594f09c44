import Foundation

/// Every failure the app shows, as cases a view can switch over.
public enum ClientError: Error, Equatable, Sendable {
    /// Practice, email or password not accepted.
    case wrongCredentials
    /// Too many failed sign-ins; try again after the given number of seconds.
    case locked(retryAfter: Int?)
    /// The server cannot be reached.
    case offline
    /// Nobody is signed in on this device.
    case notSignedIn
    /// The session ended (refresh refused): sign in again.
    case sessionExpired
    /// The practice's data is no longer available (it was shredded).
    case practiceUnavailable
    /// The request was refused as invalid; the message names the field.
    case invalidRequest(String)
    /// Anything else the server answered.
    case server(status: Int, detail: String?)

    /// A sentence for the user.
    public var message: String {
        switch self {
        case .wrongCredentials: return "The practice, email or password is not right."
        case .locked(let seconds): return "Too many attempts. Try again" + (seconds.map { " in \(($0 + 59) / 60) minutes." } ?? " later.")
        case .offline: return "You are offline."
        case .notSignedIn: return "Please sign in."
        case .sessionExpired: return "Your session has ended. Please sign in again."
        case .practiceUnavailable: return "This practice's records are no longer available."
        case .invalidRequest(let detail): return detail
        case .server(let status, let detail): return detail ?? "The server could not complete the request (\(status))."
        }
    }

    /// Maps a transport failure: anything that means "no answer from the server" is `.offline`.
    static func from(_ error: any Error) -> ClientError {
        if let error = error as? ClientError { return error }
        if let runtime = error as? OpenAPIRuntimeClientErrorBox { return from(runtime.underlying) }
        if let url = error as? URLError {
            switch url.code {
            case .cannotConnectToHost, .cannotFindHost, .networkConnectionLost, .notConnectedToInternet, .timedOut, .dnsLookupFailed,
                .secureConnectionFailed, .cannotLoadFromNetwork, .internationalRoamingOff, .dataNotAllowed:
                return .offline
            default: return .server(status: 0, detail: url.localizedDescription)
            }
        }
        let text = String(describing: error)
        // URLSession on Linux reports refused connections through NSError codes in the URL error domain.
        if (error as NSError).domain == NSURLErrorDomain || text.contains("Could not connect") || text.contains("Connection refused") {
            return .offline
        }
        return .server(status: 0, detail: "Unexpected error.")
    }
}

/// Lets ``ClientError/from(_:)`` look inside OpenAPIRuntime's wrapper without importing it here.
protocol OpenAPIRuntimeClientErrorBox {
    var underlying: any Error { get }
}
