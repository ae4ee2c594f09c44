/// Namespace of the security building blocks; see the files of this target.
public enum EHRSecurity {}
