import EHRClient
import SwiftUI

/// The conversation with the therapist, through the service: each of the user's messages shows whether it is
/// queued (written offline), delivered or read; the view model's notice says who can read them.
struct ChatView: View {
    @Bindable var model: ChatViewModel
    /// Tells the user's own messages from the therapist's.
    let currentUserID: String
    @State private var sending = false

    var body: some View {
        VStack(spacing: 0) {
            PrivacyNotice(text: model.notice)
            messages
            if let error = model.error {
                errorRow(error)
            }
            composer
        }
        .navigationTitle(model.channel?.title ?? "Messages")
        .navigationBarTitleDisplayMode(.inline)
        .task {
            await model.load()
        }
    }

    private var messages: some View {
        ScrollViewReader { proxy in
            ScrollView {
                LazyVStack(spacing: 8) {
                    ForEach(model.messages) { message in
                        MessageBubble(message: message, isMine: message.senderId == currentUserID)
                            .id(message.id)
                    }
                }
                .padding()
            }
            .defaultScrollAnchor(.bottom)
            .overlay {
                if model.messages.isEmpty && model.error == nil {
                    ContentUnavailableView(
                        "No messages yet",
                        systemImage: "bubble.left.and.bubble.right",
                        description: Text(model.channel.map { "Write to \($0.title) below." } ?? "")
                    )
                }
            }
            .onChange(of: model.messages.last?.id) { _, id in
                if let id {
                    withAnimation { proxy.scrollTo(id, anchor: .bottom) }
                }
            }
        }
    }

    private func errorRow(_ error: ClientError) -> some View {
        HStack {
            Label(error.message, systemImage: "exclamationmark.circle")
                .foregroundStyle(.red)
            Spacer()
            if model.channel == nil {
                Button("Retry") {
                    Task { await model.load() }
                }
            }
        }
        .font(.footnote)
        .padding(.horizontal)
        .padding(.vertical, 6)
    }

    private var composer: some View {
        HStack(alignment: .bottom, spacing: 8) {
            TextField("Message", text: $model.draft, axis: .vertical)
                .lineLimit(1...5)
                .textFieldStyle(.roundedBorder)
            Button {
                send()
            } label: {
                Image(systemName: "arrow.up.circle.fill")
                    .font(.title)
            }
            .disabled(sending || !model.canSend)
            .accessibilityLabel("Send")
        }
        .padding()
        .background(.bar)
    }

    private func send() {
        guard !sending else { return }
        sending = true
        Task {
            await model.send()
            sending = false
        }
    }
}

/// The view model's notice, shown prominently above the conversation.
private struct PrivacyNotice: View {
    let text: String

    var body: some View {
        Label(text, systemImage: "lock")
            .font(.footnote.weight(.semibold))
            .frame(maxWidth: .infinity, alignment: .leading)
            .padding(12)
            .background(Color.accentColor.opacity(0.12))
    }
}

private struct MessageBubble: View {
    let message: ChatMessage
    let isMine: Bool

    var body: some View {
        HStack {
            if isMine { Spacer(minLength: 40) }
            VStack(alignment: isMine ? .trailing : .leading, spacing: 2) {
                Text(message.text)
                    .padding(.horizontal, 12)
                    .padding(.vertical, 8)
                    .foregroundStyle(isMine ? Color.white : Color.primary)
                    .background(isMine ? Color.accentColor : Color.gray.opacity(0.2), in: RoundedRectangle(cornerRadius: 16))
                HStack(spacing: 4) {
                    Text(message.sentAt, format: .dateTime.hour().minute())
                    switch message.delivery {
                    case .localOnly:
                        Label("On this device only", systemImage: "iphone")
                    case .queued:
                        Label("Sends when online", systemImage: "clock")
                    case .delivered:
                        Label("Delivered", systemImage: "checkmark")
                    case .read:
                        Label("Read", systemImage: "checkmark.circle.fill")
                    }
                }
                .font(.caption2)
                .foregroundStyle(.secondary)
            }
            if !isMine { Spacer(minLength: 40) }
        }
        .accessibilityElement(children: .combine)
    }
}
