import GatehouseCore
import Logging

extension CatalogueError {
    /// The one fallback for a failure that is not a catalogue error (a database down, a bug): the
    /// client sees 50000 in its own language and dialect, like any other catalogue error; the
    /// cause goes only to the log, against the trace ID, and to the sign-in record's private detail.
    static func caught(_ error: any Error, context: GatehouseContext, step: String) -> CatalogueError {
        if let error = error as? CatalogueError { return error }
        if let unavailable = error as? StoreUnavailable {
            context.logger.warning("database unavailable", metadata: ["cause": .string(unavailable.description), "step": .string(step)])
            return CatalogueError(Catalogue.storeUnavailable, detail: unavailable.description)
        }
        let cause = String(describing: error)
        context.logger.error("internal fault", metadata: ["cause": .string(cause), "step": .string(step)])
        return CatalogueError(Catalogue.tokenIssuanceError, detail: cause)
    }
}
