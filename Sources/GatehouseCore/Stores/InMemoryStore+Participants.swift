import Foundation

extension InMemoryStore {
    public func noteParticipant(_ participant: SessionParticipant) async throws {
        state.withLock { state in
            guard
                !state.sessionParticipants.contains(where: {
                    $0.tenant == participant.tenant && $0.sid == participant.sid && $0.clientID == participant.clientID
                })
            else { return }
            state.sessionParticipants.append(participant)
        }
    }

    public func takeParticipants(tenant: String, userID: String, sid: String?) async throws -> [SessionParticipant] {
        state.withLock { state in
            let taken = state.sessionParticipants.filter { $0.tenant == tenant && $0.userID == userID && (sid == nil || $0.sid == sid) }
            state.sessionParticipants.removeAll { $0.tenant == tenant && $0.userID == userID && (sid == nil || $0.sid == sid) }
            return taken.sorted { ($0.sid, $0.clientID) < ($1.sid, $1.clientID) }
        }
    }

    public func purgeParticipants(now: Date, limit: Int) async throws -> Int {
        state.withLock { state in
            var purged = 0
            state.sessionParticipants.removeAll { participant in
                guard purged < limit, participant.expiresAt < now else { return false }
                purged += 1
                return true
            }
            return purged
        }
    }
}
