// The API's reference page (/api/v1/docs): Swagger UI over the document Strata generates.
// A file, not an inline script, so the page keeps Strata's Content-Security-Policy.
window.addEventListener('load', () => {
  window.ui = SwaggerUIBundle({
    url: '/api/v1/openapi.json',
    dom_id: '#swagger-ui',
    deepLinking: true,
    tryItOutEnabled: false,
  });
});
