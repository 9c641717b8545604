// swift-format-ignore-file
// Written by scripts/generate-admin-api: the SHA-256 of openapi/admin.yaml this code was generated from.
public enum AdminAPIDocument {
    public static let sha256 = "027bb239377f3aa14f558924ffc78a6339e58a6aea6853691f58cc8069ced373"
}
