// swift-format-ignore-file
// Written by scripts/generate-admin-api: the SHA-256 of openapi/admin.yaml this code was generated from.
public enum AdminAPIDocument {
    public static let sha256 = "336de2f80c75eb58f8b472452ef734a81958782b5946d57ce1b906467ba44e26"
}
