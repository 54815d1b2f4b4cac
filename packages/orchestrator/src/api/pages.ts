// Pages served without a build step. Nothing here loads anything from outside the cluster: the
// machines often have no internet, and the UI must not leak where it runs.

export const uiNotBuiltPage = `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>Kraken</title></head>
<body style="font-family: system-ui, sans-serif; margin: 2rem">
<h1>Kraken orchestrator</h1>
<p>The web UI is not built into this agent yet. The API is up: try <a href="/graphiql">/graphiql</a>.</p>
</body></html>
`;

/** A minimal query runner standing in for GraphiQL (whose bundle would come from a CDN). */
export const graphiqlPage = `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>Kraken GraphQL</title>
<style>
  body { font-family: system-ui, sans-serif; margin: 1rem; }
  textarea, pre { width: 100%; box-sizing: border-box; font-family: ui-monospace, monospace; font-size: 13px; }
  textarea { height: 14rem; } pre { background: #f4f4f4; padding: .5rem; min-height: 10rem; white-space: pre-wrap; }
  label { display: block; margin: .5rem 0 .2rem; }
</style></head>
<body>
<h1>Kraken GraphQL</h1>
<label for="token">Token</label><input id="token" type="password" size="48" autocomplete="off">
<label for="query">Query</label>
<textarea id="query">query {
  getDeployments { id srcUrl gitBranch status node deploymentUrl }
  getNodes { id addr state }
}</textarea>
<label for="variables">Variables (JSON)</label><textarea id="variables" style="height:4rem">{}</textarea>
<p><button id="run">Run</button></p>
<pre id="result"></pre>
<script>
  const $ = (id) => document.getElementById(id);
  $('token').value = sessionStorage.getItem('kraken-token') || '';
  $('run').onclick = async () => {
    sessionStorage.setItem('kraken-token', $('token').value);
    let variables;
    try { variables = JSON.parse($('variables').value || '{}'); }
    catch (e) { $('result').textContent = 'variables: ' + e.message; return; }
    const response = await fetch('/graphql', {
      method: 'POST',
      headers: { 'content-type': 'application/json', authorization: 'Bearer ' + $('token').value },
      body: JSON.stringify({ query: $('query').value, variables }),
    });
    $('result').textContent = response.status + '\\n' + JSON.stringify(await response.json(), null, 2);
  };
</script>
</body></html>
`;
