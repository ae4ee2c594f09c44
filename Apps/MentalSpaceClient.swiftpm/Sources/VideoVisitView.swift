import EHRClient
import SwiftUI

/// A video session's room: joining, the waiting room until the therapist admits the client, the call, and its end.
/// The signaling is the core's (`VideoVisitViewModel`); the camera and the peer connection belong to a WebRTC
/// engine the app links (not part of this package: `onSignal` and `send` are where it plugs in).
struct VideoVisitView: View {
    @State var model: VideoVisitViewModel
    let appointmentID: String
    @Environment(\.dismiss) private var dismiss

    var body: some View {
        VStack(spacing: 20) {
            switch model.state {
            case .idle, .joining:
                ProgressView("Joining the video session…")
            case .waiting:
                ContentUnavailableView(
                    "Waiting room",
                    systemImage: "hourglass",
                    description: Text("Your therapist will let you in shortly. Please keep this screen open."))
            case .inRoom(let peer):
                Label(Self.text(peer, role: model.role), systemImage: peer == .joined ? "video.fill" : "video.slash")
                    .font(.headline)
                if model.role == "therapist" && peer == .waiting {
                    Button("Admit") { Task { await model.admit() } }
                        .buttonStyle(.borderedProminent)
                }
            case .ended(let reason):
                ContentUnavailableView("Session ended", systemImage: "video.slash", description: Text(reason))
            case .failed(let error):
                ContentUnavailableView("Could not join", systemImage: "exclamationmark.triangle", description: Text(error.message))
            }
            if let notice = model.notice {
                Text(notice).font(.footnote).foregroundStyle(.secondary)
            }
            Spacer()
            Button("Leave", role: .destructive) {
                Task {
                    await model.leave()
                    dismiss()
                }
            }
        }
        .padding()
        .navigationTitle("Video session")
        .navigationBarTitleDisplayMode(.inline)
        .task { await model.join(appointmentID: appointmentID) }
        .onDisappear { Task { await model.leave() } }
    }

    private static func text(_ peer: VideoVisitPeer, role: String) -> String {
        let other = role == "therapist" ? "Your client" : "Your therapist"
        switch peer {
        case .absent: return "\(other) has not joined yet."
        case .waiting: return "\(other) is in the waiting room."
        case .joined: return "\(other) is in the session."
        case .left: return "\(other) left the session."
        }
    }
}
