// swift-format-ignore-file
// Written by scripts/generate-admin-api: the SHA-256 of openapi/admin.yaml this code was generated from.
public enum AdminAPIDocument {
    public static let sha256 = "cd9ea39e13fb7123a56959b1aaec4d35d5fb531a6c3e4adb97e754e01a8f6092"
}
