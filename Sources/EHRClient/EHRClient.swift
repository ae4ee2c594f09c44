/// The client core of MentalSpace EHR: sign-in and session, upcoming appointments with an offline cache,
/// the chat stub, reminders, and view models. Platform-independent (iOS 17+, macOS 14+, Linux).
public enum EHRClientCore {}
