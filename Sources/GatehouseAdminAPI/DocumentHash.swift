// swift-format-ignore-file
// Written by scripts/generate-admin-api: the SHA-256 of openapi/admin.yaml this code was generated from.
public enum AdminAPIDocument {
    public static let sha256 = "115c6392f902ada9a01b22abf66191993a25ea380fb995fc4ccb7ef7e3d61488"
}
