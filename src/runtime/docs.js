// Starts Swagger UI on the spec this server was generated from.
// The page lives at <prefix>/docs/ and the spec at <prefix>/openapi.json, so
// the spec's URL is resolved relative to the page: a reverse proxy that
// mounts the service under a prefix needs no configuration here. Swagger UI
// resolves a relative `servers` URL against the spec's URL, so "Try it out"
// calls the same origin and prefix the page came from.
window.addEventListener('load', function () {
  window.ui = SwaggerUIBundle({
    url: new URL('../openapi.json', document.baseURI).href,
    dom_id: '#swagger-ui',
    presets: [SwaggerUIBundle.presets.apis],
    layout: 'BaseLayout',
    deepLinking: true,
    displayOperationId: true,
    displayRequestDuration: true,
    // No third-party calls from the reader's browser: the online spec
    // validator's badge would send the spec's URL to validator.swagger.io.
    validatorUrl: null
  });
});
