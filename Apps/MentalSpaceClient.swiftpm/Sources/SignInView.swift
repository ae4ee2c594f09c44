import EHRClient
import SwiftUI

/// Server, practice, email and password. Validation, progress and error wording come from `SignInViewModel`.
@MainActor
struct SignInView: View {
    @State private var model: SignInViewModel
    private let onSignedIn: @MainActor () async -> Void

    init(client: MentalSpaceClient, onSignedIn: @escaping @MainActor () async -> Void) {
        _model = State(initialValue: SignInViewModel(client: client))
        self.onSignedIn = onSignedIn
    }

    var body: some View {
        NavigationStack {
            Form {
                Section {
                    TextField("Server", text: $model.server, prompt: Text("https://ehr.example.com"))
                        .keyboardType(.URL)
                        .textContentType(.URL)
                } header: {
                    Text("Server")
                } footer: {
                    Text("The address of your practice's MentalSpace server.")
                }

                Section("Account") {
                    TextField("Practice", text: $model.tenant)
                    TextField("Email", text: $model.email)
                        .keyboardType(.emailAddress)
                        .textContentType(.username)
                    SecureField("Password", text: $model.password)
                        .textContentType(.password)
                }

                if case .failed(let error) = model.state {
                    Section {
                        Label(error.message, systemImage: "exclamationmark.triangle.fill")
                            .foregroundStyle(.red)
                    }
                }

                Section {
                    Button {
                        submit()
                    } label: {
                        HStack {
                            Spacer()
                            if model.state == .signingIn {
                                ProgressView()
                            } else {
                                Text("Sign In").bold()
                            }
                            Spacer()
                        }
                    }
                    .disabled(!model.canSubmit)
                }
            }
            .textInputAutocapitalization(.never)
            .autocorrectionDisabled()
            .onSubmit { submit() }
            .navigationTitle("MentalSpace")
        }
    }

    private func submit() {
        guard model.canSubmit else { return }
        Task {
            await model.signIn()
            if case .signedIn = model.state {
                await onSignedIn()
            }
        }
    }
}
