// swift-format-ignore-file
// Written by scripts/generate-admin-api: the SHA-256 of openapi/admin.yaml this code was generated from.
public enum AdminAPIDocument {
    public static let sha256 = "5418a70df2aaf67aebe4397cb978bbc15d19e1cd7b89cc79c9be21e46ebdbc6a"
}
