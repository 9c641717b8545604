import Foundation

/// A browser's `User-Agent` as a person recognises it on the account page ("Firefox on Linux").
/// Only well-known names are picked out; anything else is "Unknown browser", never the raw text.
public enum DeviceSummary {
    /// The browser and the system, each nil when not recognised.
    public static func parse(_ userAgent: String?) -> (browser: String?, system: String?) {
        guard let agent = userAgent, !agent.isEmpty else { return (nil, nil) }
        // Order matters: Edge and Opera also say "Chrome", Chrome also says "Safari".
        let browsers: [(marker: String, name: String)] = [
            ("Edg/", "Edge"), ("OPR/", "Opera"), ("Firefox/", "Firefox"), ("HeadlessChrome/", "Chrome (headless)"),
            ("Chromium/", "Chromium"), ("Chrome/", "Chrome"), ("CriOS/", "Chrome"), ("FxiOS/", "Firefox"), ("Safari/", "Safari"),
            ("curl/", "curl"), ("python-requests/", "Python requests"),
        ]
        let systems: [(marker: String, name: String)] = [
            ("Windows", "Windows"), ("iPhone", "iOS"), ("iPad", "iPadOS"), ("Android", "Android"), ("CrOS", "ChromeOS"),
            ("Mac OS X", "macOS"), ("Macintosh", "macOS"), ("Linux", "Linux"),
        ]
        let browser = browsers.first { agent.contains($0.marker) }?.name
        let system = systems.first { agent.contains($0.marker) }?.name
        return (browser, system)
    }
}
