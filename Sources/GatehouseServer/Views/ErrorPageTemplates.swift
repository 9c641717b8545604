/// Server-rendered troubleshooting pages (swift-mustache; `{{ }}` escapes HTML).
enum ErrorPageTemplates {
    static let entry = """
        <!DOCTYPE html>
        <html lang="{{language}}">
        <head>
        <meta charset="utf-8">
        <meta name="viewport" content="width=device-width, initial-scale=1">
        <title>{{title}}</title>
        <style>
        body{font-family:system-ui,-apple-system,"Segoe UI",sans-serif;max-width:46rem;margin:2rem auto;padding:0 1rem;line-height:1.5;color:#1b1b1b}
        h1{font-size:1.5rem} h2{font-size:1.15rem;margin-top:1.5rem} #request{border-left:4px solid #005fcc;padding-left:1rem} dt{font-weight:600;margin-top:1rem} code{background:#f2f2f2;padding:0 .25rem}
        .meta{color:#555} nav a{margin-right:1rem}
        </style>
        </head>
        <body>
        <main>
        <h1>{{title}}: {{name}}</h1>
        <p class="meta">{{labelError}}: <code>{{error}}</code> · {{labelStatus}}: <code>{{status}}</code></p>
        <dl>
        <dt>{{labelMessage}}</dt><dd>{{message}}</dd>
        <dt>{{labelCause}}</dt><dd>{{cause}}</dd>
        <dt>{{labelRemediation}}</dt><dd>{{remediation}}</dd>
        </dl>
        {{#request}}<section aria-labelledby="your-request" id="request"><h2 id="your-request">{{heading}}</h2>
        {{#hasFields}}<dl>{{#fields}}<dt>{{label}}</dt><dd><code>{{value}}</code></dd>{{/fields}}</dl>{{/hasFields}}
        {{#note}}<p>{{note}}</p>{{/note}}
        {{#console}}<p><a href="{{href}}" id="open-in-console">{{label}}</a></p>{{/console}}</section>{{/request}}
        <p class="meta">{{traceHint}}</p>
        <nav aria-label="languages">{{#languages}}<a href="?code={{code}}{{traceQuery}}&amp;ui_locales={{tag}}" lang="{{tag}}">{{label}}</a>{{/languages}}</nav>
        </main>
        </body>
        </html>
        """

    static let index = """
        <!DOCTYPE html>
        <html lang="{{language}}">
        <head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1"><title>Gatehouse error codes</title>
        <style>body{font-family:system-ui,sans-serif;max-width:60rem;margin:2rem auto;padding:0 1rem} td{padding:.2rem .6rem;vertical-align:top}</style></head>
        <body><main><h1>Gatehouse error codes</h1>
        <table><thead><tr><th scope="col">Code</th><th scope="col">Name</th><th scope="col">error</th><th scope="col">HTTP</th></tr></thead><tbody>
        {{#entries}}<tr><td><a href="?code={{number}}&amp;ui_locales={{language}}">{{number}}</a></td><td>{{name}}</td><td><code>{{error}}</code></td><td>{{status}}</td></tr>
        {{/entries}}</tbody></table></main></body></html>
        """
}
