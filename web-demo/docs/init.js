// Swagger UI initialiser (a separate file: the page's CSP allows no inline script).
// After rendering, controls Swagger UI leaves unnamed get an accessible name.
function labelControls() {
  const servers = document.getElementById('servers');
  if (servers && !servers.getAttribute('aria-label')) servers.setAttribute('aria-label', 'Server');
  for (const select of document.querySelectorAll('.swagger-ui select:not([aria-label])')) select.setAttribute('aria-label', select.name || 'Choose');
}
window.addEventListener('DOMContentLoaded', () => {
  window.ui = window.SwaggerUIBundle({
    url: '/protocol/openapi.yaml',
    dom_id: '#swagger-ui',
    deepLinking: true,
    docExpansion: 'none',
    defaultModelsExpandDepth: 0,
    tryItOutEnabled: false,
    onComplete: labelControls,
  });
  new MutationObserver(labelControls).observe(document.getElementById('swagger-ui'), { childList: true, subtree: true });
});
