// Starts GraphiQL on this page, sending queries to the URL the page was served from (/graphql).
// A file of its own, not an inline script, so the page runs under `script-src 'self'`.
(function () {
  var endpoint = window.location.pathname;
  var fetcher = GraphiQL.createFetcher({ url: endpoint });
  var root = ReactDOM.createRoot(document.getElementById('graphiql'));
  root.render(React.createElement(GraphiQL, { fetcher: fetcher }));
})();
