// swift-format-ignore-file
// Written by scripts/generate-admin-api: the SHA-256 of openapi/admin.yaml this code was generated from.
public enum AdminAPIDocument {
    public static let sha256 = "87aed15787b928078eb8c4da1b8813dc52d14e951cabf9a627a8a552476759a9"
}
