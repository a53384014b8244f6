package httpapi

import (
	"encoding/json"
	"strings"
)

// pageHelperJS is the script served right after the page-token <meta> at
// the top of every app page, before the page's own scripts. It keeps the
// page signed in while the person's session lives, with no code in the app:
//
//   - it wraps fetch and XMLHttpRequest: a call the page makes with a page
//     token this page has held goes out with the newest one instead, and a
//     fresh token on an answer (PageTokenHeader) is adopted — and written to
//     the <meta>, for pages that read it on each call;
//   - when no call has renewed the token for half its life (an idle page),
//     it renews it through PageTokenPath, again at half the new one's life;
//     a refusal (401: the session has ended) stops it, other failures retry
//     every minute until the token would have expired.
//
// Times are taken relative to when a token arrived (its own iat to exp), so
// a wrong clock on the ward PC does not matter. __RENEW__ is replaced by the
// app's renewal URL as a JSON string.
const pageHelperJS = `<script>
/* Rounds: keeps this page's token fresh while the session lives (plugins/sdk/GUIDE.md). */
(function () {
  'use strict';
  var meta = document.querySelector('meta[name="rounds-page-token"]');
  if (!meta || !window.fetch) return;
  var RENEW = __RENEW__, HEADER = 'X-Rounds-Page-Token';
  var pfetch = window.fetch, held = {}, cur = '', exp = 0, until = 0, timer = 0;
  function claims(t) {
    try {
      var c = JSON.parse(atob(t.split('.')[1].replace(/-/g, '+').replace(/_/g, '/')));
      return c.exp > c.iat ? c : null;
    } catch (e) { return null; }
  }
  function arm(ms) { clearTimeout(timer); timer = setTimeout(renew, ms); }
  function adopt(t) {
    var c = typeof t === 'string' && t.indexOf('rpt1.') === 0 ? claims(t) : null;
    if (!c || c.exp <= exp) return;
    var life = c.exp - c.iat;
    cur = t; exp = c.exp; held[t] = true; meta.content = t;
    until = Date.now() + life;
    arm(life / 2 + Math.random() * Math.min(60000, life / 20));
  }
  function renew() {
    if (Date.now() >= until) return;
    pfetch.call(window, RENEW, {method: 'POST', headers: {'Authorization': 'Bearer ' + cur}})
      .then(function (r) { if (r.status === 401) return null; if (!r.ok) throw r.status; return r.json(); })
      .then(function (j) { if (j) adopt(j.token); }, function () { arm(60000); });
  }
  function swap(a) {
    var t = typeof a === 'string' && /^bearer /i.test(a) ? a.slice(7).trim() : '';
    return t && t !== cur && held[t] ? 'Bearer ' + cur : '';
  }
  window.fetch = function (input, init) {
    try {
      var h = new Headers(init && init.headers !== undefined ? init.headers : (input instanceof Request ? input.headers : undefined));
      var a = swap(h.get('Authorization'));
      if (a) { h.set('Authorization', a); init = Object.assign({}, init, {headers: h}); }
    } catch (e) { /* leave the call as the page made it */ }
    return pfetch.call(window, input, init).then(function (r) { adopt(r.headers.get(HEADER)); return r; });
  };
  var X = window.XMLHttpRequest && XMLHttpRequest.prototype;
  if (X) {
    var setHeader = X.setRequestHeader, send = X.send;
    X.setRequestHeader = function (k, v) {
      return setHeader.call(this, k, String(k).toLowerCase() === 'authorization' ? swap(String(v)) || v : v);
    };
    X.send = function () {
      this.addEventListener('load', function () {
        var m = /^x-rounds-page-token:\s*(\S+)/im.exec(this.getAllResponseHeaders());
        if (m) adopt(m[1]);
      });
      return send.apply(this, arguments);
    };
  }
  adopt(meta.content);
})();
</script>`

// pageHelper returns the helper script for appID's pages.
func pageHelper(appID string) string {
	u, _ := json.Marshal("/plugins/" + appID + PageTokenPath) // escapes <, > and &
	return strings.Replace(pageHelperJS, "__RENEW__", string(u), 1)
}
