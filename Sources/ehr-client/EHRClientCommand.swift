import ArgumentParser
import EHRClient
import Foundation

/// The mobile flows on a machine without a phone: the same client core the iOS app uses.
@main
struct EHRClientCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "ehr-client",
        abstract: "MentalSpace EHR client: sign in, upcoming appointments (offline too), chat, reminders. State lives in EHR_CLIENT_HOME.",
        subcommands: [Login.self, Logout.self, Appointments.self, Chat.self, Notifications.self])
}

/// The client over `EHR_CLIENT_HOME` (default: the user's config folder).
func makeClient() -> MentalSpaceClient {
    MentalSpaceClient(home: MentalSpaceClient.defaultHome())
}

/// Prints the error's user message and exits non-zero.
func fail(_ error: ClientError) -> ExitCode {
    FileHandle.standardError.write(Data("error: \(error.message)\n".utf8))
    return ExitCode(error == .offline ? 3 : 1)
}

struct Login: AsyncParsableCommand {
    static let configuration = CommandConfiguration(abstract: "Sign in. The password comes from EHR_PASSWORD or a prompt.")
    @Option(help: "Server address, e.g. http://127.0.0.1:8080.") var server: String
    @Option(help: "Practice slug.") var tenant: String
    @Option(help: "Email.") var email: String

    func run() async throws {
        guard let url = URL(string: server), url.scheme != nil else { throw ValidationError("--server must be a URL such as http://127.0.0.1:8080") }
        let password: String
        if let given = ProcessInfo.processInfo.environment["EHR_PASSWORD"] {
            password = given
        } else {
            guard let typed = getpass("Password: ") else { throw ValidationError("no password given") }
            password = String(cString: typed)
        }
        do {
            let info = try await makeClient().signIn(server: url, tenant: tenant, email: email, password: password)
            print("Signed in as \(info.displayName) (\(info.role)) at practice '\(info.tenant)'.")
        } catch {
            throw fail(error)
        }
    }
}

struct Logout: AsyncParsableCommand {
    static let configuration = CommandConfiguration(abstract: "Sign out: revoke the session on the server and wipe tokens and cache.")

    func run() async throws {
        await makeClient().signOut()
        print("Signed out; the session and the local cache are gone from this device.")
    }
}

struct Appointments: AsyncParsableCommand {
    static let configuration = CommandConfiguration(abstract: "Upcoming appointments: synced, or the cached list when the server cannot be reached.")
    @Flag(help: "Show the cached list without asking the server.") var offline = false

    func run() async throws {
        do {
            let services = try await makeClient().userServices()
            let snapshot = offline ? try await services.appointments.cached() : try await services.appointments.load()
            if snapshot.isOffline {
                let when = snapshot.lastSync.map { "last synced \($0.formatted(date: .abbreviated, time: .standard))" } ?? "never synced on this device"
                print("OFFLINE: showing the cached list (\(when)).")
            } else {
                print("Synced \(snapshot.appointments.count) upcoming appointment\(snapshot.appointments.count == 1 ? "" : "s").")
            }
            for a in snapshot.appointments { print("  " + Self.line(a)) }
            if snapshot.appointments.isEmpty { print("  (none)") }
        } catch let error as ClientError {
            throw fail(error)
        } catch {
            throw fail(.server(status: 0, detail: "The local cache could not be read."))
        }
    }

    /// `Mon, Dec 1, 10:00 AM – 10:50 AM America/New_York  televisit  scheduled  <id>` in the zone it was booked in.
    static func line(_ a: UpcomingAppointment) -> String {
        let zone = TimeZone(identifier: a.timeZone) ?? .current
        var start = Date.FormatStyle(date: .abbreviated, time: .shortened)
        start.timeZone = zone
        var end = Date.FormatStyle(date: .omitted, time: .shortened)
        end.timeZone = zone
        return "\(a.startsAt.formatted(start)) – \(a.endsAt.formatted(end)) \(a.timeZone)  \(a.kind)  \(a.status)  \(a.id)"
    }
}

struct Chat: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Secure messages with your therapist (written offline, they are sent when you are back online).",
        subcommands: [Send.self, List.self])

    struct Send: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Write a message to your therapist.")
        @Argument(help: "The message.") var text: String

        func run() async throws {
            do {
                let chat = try await makeClient().userServices().chat
                let channel = try await chat.channel()
                let message = try await chat.send(text)
                switch message.delivery {
                case .queued: print("Offline: kept on this device and sent to \(channel.title) when you are back online [queued].")
                case .localOnly: print("The service refused this message; it stays on this device only [local-only].")
                case .delivered, .read: print("Sent to \(channel.title) [\(message.delivery.rawValue)].")
                }
            } catch {
                throw fail(error)
            }
        }
    }

    struct List: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Show the conversation.")

        func run() async throws {
            do {
                let chat = try await makeClient().userServices().chat
                let channel = try await chat.channel()
                let messages = try await chat.messages()
                print("Conversation with \(channel.title) (thread \(channel.id)):")
                for m in messages { print("  \(m.sentAt.formatted(date: .abbreviated, time: .shortened))  [\(m.delivery.rawValue)]  \(m.text)") }
                if messages.isEmpty { print("  (no messages)") }
            } catch {
                throw fail(error)
            }
        }
    }
}

struct Notifications: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Reminders scheduled from the last sync (24 h and 1 h before each appointment) and the unread badge.")
    @Flag(help: "Mark fired reminders read (clears the badge).") var markRead = false

    func run() async throws {
        do {
            let notifier = try await makeClient().userServices().notifier
            if markRead { await notifier.markAllRead(now: Date()) }
            let reminders = await notifier.scheduledReminders()
            print("Badge: \(await notifier.badgeCount(now: Date())) unread")
            for r in reminders {
                print("  \(r.fireAt.formatted(date: .abbreviated, time: .shortened))  \(r.title): \(r.body)\(r.read ? "  (read)" : "")")
            }
            if reminders.isEmpty { print("  (no reminders; run `ehr-client appointments` to sync)") }
        } catch {
            throw fail(error)
        }
    }
}
