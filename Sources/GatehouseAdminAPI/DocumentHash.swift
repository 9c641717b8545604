// swift-format-ignore-file
// Written by scripts/generate-admin-api: the SHA-256 of openapi/admin.yaml this code was generated from.
public enum AdminAPIDocument {
    public static let sha256 = "313474754da938758275370ab18192f726dc4374bb4b7b29ef931882a1aa1563"
}
