/* The jurisdiction's map (maps/map.html) and the public map (maps/public_map.html), on Leaflet served by the
   app. Layers are GeoJSON read from the app for the viewport and zoom; nothing is drawn from outside. */
(function () {
  "use strict";
  var COLORS = {high: "#c62828", medium: "#ef6c00", low: "#f9a825", observation: "#f9a825", infections: "#6a1b9a",
                facilities: "#1565c0", keyplaces: "#00838f", screening: "#2e7d32", special: "#ef6c00"};

  function el(tag, text, cls) {
    var e = document.createElement(tag);
    if (text !== undefined && text !== null) { e.textContent = text; }
    if (cls) { e.className = cls; }
    return e;
  }
  function link(href, text) { var a = el("a", text); a.href = href; return a; }
  function bounds(extent) {
    var v = extent.split(",").map(Number);
    return [[v[1], v[0]], [v[3], v[2]]];
  }
  function newMap(node) {
    var map = L.map(node, {minZoom: 6, maxZoom: 19, attributionControl: false, zoomControl: false});
    // the zoom buttons' titles in the page's language (Leaflet's own are English)
    L.control.zoom({zoomInTitle: node.dataset.tZoomIn || "Zoom in", zoomOutTitle: node.dataset.tZoomOut || "Zoom out"})
      .addTo(map);
    map.fitBounds(bounds(node.dataset.extent));
    return map;
  }

  // ------------------------------------------------------------------ the public map
  function publicMap(node) {
    var map = newMap(node), outlines = document.getElementById("map-districts");
    if (outlines) {  // the city's districts (outlines and names), under the risk areas
      L.geoJSON(JSON.parse(outlines.textContent), {
        style: function () { return {color: "#8a8fa3", weight: 2, fill: false, className: "map-district"}; },
        onEachFeature: function (f, ly) { ly.bindTooltip(f.properties.name, {direction: "center", className: "map-label"}); }
      }).addTo(map);
    }
    fetch(node.dataset.geojson, {headers: {Accept: "application/geo+json"}}).then(function (r) { return r.json(); })
      .then(function (fc) {
        var layer = L.geoJSON(fc, {
          style: function (f) { return {color: COLORS[f.properties.level] || "#555", weight: 2, fillOpacity: 0.35, className: "map-risk"}; },
          onEachFeature: function (f, ly) {
            var p = f.properties, box = el("div", null, "map-popup");
            box.appendChild(el("strong", p.path));
            box.appendChild(el("div", (node.dataset["t" + p.level[0].toUpperCase() + p.level.slice(1)] || p.level)));
            box.appendChild(el("div", node.dataset.tSince + " " + p.since + (p.next_on ? " → " + p.next_on : "")));
            ly.bindPopup(box);
          }
        }).addTo(map);
        if (fc.features.length && layer.getBounds().isValid()) { map.fitBounds(layer.getBounds(), {maxZoom: 16}); }
        node.dataset.loaded = String(fc.features.length);
      });
  }

  // ------------------------------------------------------------------ lasso selection
  function inside(x, y, ring) {  // ray casting; ring: [[lng, lat], ...]
    var hit = false;
    for (var i = 0, j = ring.length - 1; i < ring.length; j = i++) {
      var xi = ring[i][0], yi = ring[i][1], xj = ring[j][0], yj = ring[j][1];
      if ((yi > y) !== (yj > y) && x < (xj - xi) * (y - yi) / (yj - yi) + xi) { hit = !hit; }
    }
    return hit;
  }

  /* The lasso (button #lasso): while on, dragging the pointer draws a freehand ring, closed when it is released;
     clicks instead add corners one by one, closed by the button (now "finish") or a double click. The map does
     not pan meanwhile. ``pick(ring)`` selects what lies inside and answers how many it took. */
  function lassoTool(map, node, pick) {
    var button = document.getElementById("lasso"), status = document.getElementById("lasso-status");
    if (!button) { return null; }
    var d = node.dataset, on = false, down = null, dragged = false, pts = [], line = null, shape = null;
    function say(text) { if (status) { status.textContent = text; } }
    function draw() {
      if (line) { map.removeLayer(line); }
      line = pts.length ? L.polyline(pts, {color: "#1565c0", weight: 2, dashArray: "5 4", interactive: false}).addTo(map) : null;
    }
    function clear() {
      pts = []; draw();
      if (shape) { map.removeLayer(shape); shape = null; }
    }
    function stop() {
      on = false; down = null; pts = []; draw();
      map.dragging.enable(); map.doubleClickZoom.enable();
      node.classList.remove("lassoing");
      button.setAttribute("aria-pressed", "false");
      button.textContent = d.tLasso;
    }
    function finish() {
      if (pts.length < 3) { stop(); say(d.tLassoHint); return; }
      if (shape) { map.removeLayer(shape); }
      shape = L.polygon(pts, {color: "#1565c0", weight: 2, fillOpacity: 0.08, interactive: false, className: "map-lasso"}).addTo(map);
      var ring = pts.map(function (p) { return [p.lng, p.lat]; });
      stop();
      var n = pick(ring);
      say(map.getZoom() < Number(d.detailZoom) ? d.tLassoZoom : d.tLassoFound.replace("__N__", String(n)));
    }
    function start() {
      clear(); on = true;
      map.dragging.disable(); map.doubleClickZoom.disable();
      node.classList.add("lassoing");
      button.setAttribute("aria-pressed", "true");
      button.textContent = d.tLassoFinish;
      say(map.getZoom() < Number(d.detailZoom) ? d.tLassoZoom : d.tLassoHint);
    }
    button.addEventListener("click", function () { if (on) { finish(); } else { start(); } });
    function at(e) { return map.mouseEventToLatLng(e); }
    function swallow(e) { if (on) { e.stopPropagation(); e.preventDefault(); } }
    node.addEventListener("pointerdown", function (e) {
      if (!on || e.button > 0) { return; }
      swallow(e);
      down = {x: e.clientX, y: e.clientY}; dragged = false;
      if (node.setPointerCapture) { try { node.setPointerCapture(e.pointerId); } catch (err) { /* not capturable */ } }
    }, true);
    node.addEventListener("pointermove", function (e) {
      if (!on || !down) { return; }
      swallow(e);
      if (!dragged && Math.abs(e.clientX - down.x) + Math.abs(e.clientY - down.y) > 6) { dragged = true; pts = [at({clientX: down.x, clientY: down.y})]; }
      if (dragged) { pts.push(at(e)); draw(); }
    }, true);
    node.addEventListener("pointerup", function (e) {
      if (!on || !down) { return; }
      swallow(e);
      down = null;
      if (dragged) { finish(); } else { pts.push(at(e)); draw(); }
    }, true);
    ["mousedown", "mouseup", "click", "touchstart"].forEach(function (type) { node.addEventListener(type, swallow, true); });
    node.addEventListener("dblclick", function (e) { if (on) { swallow(e); pts.pop(); finish(); } }, true);
    document.addEventListener("keydown", function (e) { if (on && e.key === "Escape") { stop(); clear(); say(""); } });
    return {clear: clear};
  }

  // ------------------------------------------------------------------ the jurisdiction's map
  function staffMap(node) {
    var map = newMap(node), d = node.dataset, detail = Number(d.detailZoom);
    var drawn = {}, pending = {}, selection = {}, tiles = {}, owner = {}, adding = null;
    var TILE = 360 / 65536, TILE_TTL = 60000, MAX_TILES = 400;  // maps.tiles.TILE_DEG
    var canDesignate = d.canDesignate === "1";

    function url(name) {
      var b = map.getBounds(), q = new URLSearchParams({
        west: b.getWest().toFixed(6), south: b.getSouth().toFixed(6), east: b.getEast().toFixed(6),
        north: b.getNorth().toFixed(6), zoom: String(map.getZoom())});
      return d.layerUrl + name + "?" + q.toString();
    }
    function levelText(level) { return d["t" + level[0].toUpperCase() + level.slice(1)] || level; }

    function renderSelection() {
      var list = document.getElementById("selection"), ids = Object.keys(selection);
      if (!list) { return; }
      list.textContent = "";
      ids.forEach(function (id) {
        var li = el("li", selection[id] + " ");
        var x = el("button", "×", "btn-link");
        x.type = "button";
        x.setAttribute("aria-label", "remove " + selection[id]);
        x.addEventListener("click", function () { delete selection[id]; renderSelection(); });
        li.appendChild(x);
        list.appendChild(li);
      });
      document.getElementById("selection-areas").value = ids.join(",");
      document.getElementById("propose").disabled = ids.length === 0;
    }
    function selectButton(id, label, text) {
      var b = el("button", text + ": " + label, "btn small");
      b.type = "button";
      b.dataset.select = id;
      b.addEventListener("click", function () { selection[id] = label; renderSelection(); b.textContent = d.tSelected + ": " + label; });
      return b;
    }

    function popupFor(name, p) {
      var box = el("div", null, "map-popup");
      if (name === "basemap") {
        box.appendChild(link(p.url, p.name));
        if (p.kind === "building" && canDesignate) {
          box.appendChild(el("div"));
          box.appendChild(selectButton(p.area, p.name, d.tBuilding));
          var ul = el("ul");
          (p.units || []).forEach(function (u) {
            var li = el("li");
            li.appendChild(selectButton(u[0], p.name + u[1], d.tSelect));
            ul.appendChild(li);
          });
          if (p.units && p.units.length) { box.appendChild(el("div", d.tUnits)); box.appendChild(ul); }
        }
        return box;
      }
      if (p.items) {  // designations drawn on their shape
        var list = el("ul");
        p.items.forEach(function (it) {
          var li = el("li");
          li.appendChild(link(it.url, it.path));
          li.appendChild(document.createTextNode(" · " + levelText(it.level) + " · " + d.tSince + " " + it.since));
          list.appendChild(li);
        });
        box.appendChild(list);
        return box;
      }
      if (p.name) { box.appendChild(el("strong", p.name)); }
      if (p.level) { box.appendChild(el("div", levelText(p.level))); }
      if (p.capacity !== undefined) { box.appendChild(el("div", d.tCapacity + ": " + p.occupied + " / " + p.capacity)); }
      if (p.infections !== undefined) { box.appendChild(el("div", d.tInfections + ": " + p.infections)); }
      if (p.special !== undefined) { box.appendChild(el("div", d.tSpecial + ": " + p.special)); }
      if (p.due !== undefined) { box.appendChild(el("div", d.tSampled + ": " + p.sampled + " / " + p.due)); }
      if (p.status) { box.appendChild(el("div", p.status)); }
      // a designation drawn as a point carries its id only (the city-wide layer stays small)
      var target = p.url || (p.id ? d.zoneUrl.replace("/0/", "/" + p.id + "/") : null);
      if (target) { box.appendChild(link(target, d.tOpen)); }
      return box;
    }

    function styleFor(name, p) {
      if (name === "basemap") {
        var w = {district: 2.5, street: 1.5, community: 1, compound: 1, building: 1}[p.kind] || 1;
        return {color: p.kind === "building" ? "#667" : "#8a8fa3", weight: w, fill: p.kind === "building",
                fillColor: "#dde", fillOpacity: 0.6, dashArray: p.kind === "street" ? "4 3" : null};
      }
      var c = COLORS[p.level] || COLORS[name] || "#555";
      if (name === "screening" && p.share !== null && p.share !== undefined) {
        return {color: COLORS.screening, weight: 1, fillOpacity: 0.15 + 0.5 * p.share};
      }
      return {color: c, weight: 2, fillOpacity: 0.4};
    }

    function pointFor(name, f, latlng) {
      var p = f.properties, n = p.infections || p.special;
      if (n !== undefined) {
        return L.marker(latlng, {icon: L.divIcon({className: "map-count", html: String(n), iconSize: [28, 18]}),
                                 keyboard: true, title: String(n)});
      }
      return L.circleMarker(latlng, {radius: name === "risk" || name === "observation" ? 5 : 7,
                                     color: COLORS[p.level] || COLORS[name] || "#555", weight: 1, fillOpacity: 0.8});
    }

    function options(name) {
      return {
        style: function (f) { return styleFor(name, f.properties); },
        pointToLayer: function (f, latlng) { return pointFor(name, f, latlng); },
        onEachFeature: function (f, ly) {
          ly.cordonTile = adding;
          ly.bindPopup(function () { return popupFor(name, f.properties); });
          if (name === "basemap" && f.properties.kind !== "building" && map.getZoom() < detail) {
            ly.bindTooltip(f.properties.name, {permanent: false, direction: "center", className: "map-label"});
          }
          if (ly.getElement) { ly.on("add", function () { var e = ly.getElement(); if (e) { e.dataset.area = f.properties.area || ""; e.dataset.layer = name; } }); }
        }
      };
    }
    function counted(name, n) { node.dataset["loaded" + name[0].toUpperCase() + name.slice(1)] = String(n); }
    function forget(name) {  // the layer off the map, with its tiles
      if (pending[name]) { pending[name].abort(); delete pending[name]; }
      if (drawn[name]) { map.removeLayer(drawn[name]); delete drawn[name]; }
      delete tiles[name]; delete owner[name];
    }

    /* Below building zoom: the layer for the viewport, asked again at each move. */
    function load(name) {
      if (tiles[name]) { forget(name); }
      if (pending[name]) { pending[name].abort(); }
      var ctrl = new AbortController();
      pending[name] = ctrl;
      return fetch(url(name), {signal: ctrl.signal, credentials: "same-origin"})
        .then(function (r) { if (!r.ok) { throw new Error(r.status); } return r.json(); })
        .then(function (fc) {
          if (drawn[name]) { map.removeLayer(drawn[name]); }
          adding = null;
          drawn[name] = L.geoJSON(fc, options(name)).addTo(map);
          if (name === "basemap") { drawn[name].bringToBack(); }
          counted(name, fc.features.length);
        })
        .catch(function (e) { if (e.name !== "AbortError") { node.dataset.error = String(e); } });
    }

    /* From building zoom on: the tiles of a fixed grid (maps.tiles) the view meets that the page does not have
       yet (or has had for over TILE_TTL ms); a feature met by several tiles is drawn once (by its area or id). */
    function featureKey(f) { var p = f.properties || {}; return p.area !== undefined ? "a" + p.area : "i" + p.id; }
    function dropTile(name, k) {
      var gone = [];
      drawn[name].eachLayer(function (ly) { if (ly.cordonTile === k) { gone.push(ly); } });
      gone.forEach(function (ly) { drawn[name].removeLayer(ly); delete owner[name][featureKey(ly.feature)]; });
    }
    function loadTiles(name) {
      if (!tiles[name] || Object.keys(tiles[name]).length > MAX_TILES) {
        forget(name);
        tiles[name] = {}; owner[name] = {};
        adding = null;
        drawn[name] = L.geoJSON(null, options(name)).addTo(map);
      }
      var table = tiles[name], b = map.getBounds(), now = Date.now();
      var x0 = Math.floor((b.getWest() + 180) / TILE), x1 = Math.floor((b.getEast() + 180) / TILE);
      var y0 = Math.floor((b.getSouth() + 90) / TILE), y1 = Math.floor((b.getNorth() + 90) / TILE);
      for (var y = y0; y <= y1; y++) {
        for (var x = x0; x <= x1; x++) {
          var k = x + "/" + y, have = table[k];
          if (have && (have.loading || now - have.at < TILE_TTL)) { continue; }
          table[k] = {loading: true, at: 0};
          fetchTile(name, table, k, x, y);
        }
      }
    }
    function fetchTile(name, table, k, x, y) {
      var q = new URLSearchParams({tx: String(x), ty: String(y), zoom: String(detail)});
      fetch(d.layerUrl + name + "?" + q.toString(), {credentials: "same-origin"})
        .then(function (r) { if (!r.ok) { throw new Error(r.status); } return r.json(); })
        .then(function (fc) {
          if (tiles[name] !== table) { return; }  // the layer was dropped or zoomed out meanwhile
          dropTile(name, k);
          fc.features.forEach(function (f) {
            var fk = featureKey(f);
            if (owner[name][fk] !== undefined) { return; }
            owner[name][fk] = k;
            adding = k;
            drawn[name].addData(f);
          });
          adding = null;
          table[k] = {at: Date.now()};
          if (name === "basemap") { drawn[name].bringToBack(); }
          counted(name, Object.keys(owner[name]).length);
        })
        .catch(function (e) { if (tiles[name] === table) { delete table[k]; } node.dataset.error = String(e); });
    }
    function show(name) { if (map.getZoom() >= detail) { loadTiles(name); } else { load(name); } }
    function active() {
      var fixed = d.layers ? d.layers.split(",") : [];  // a panel draws its layers without choosing
      return ["basemap"].concat(fixed, Array.prototype.map.call(
        document.querySelectorAll('input[name="layer"]:checked'), function (i) { return i.value; }));
    }
    function refresh() { active().forEach(show); }
    document.querySelectorAll('input[name="layer"]').forEach(function (box) {
      box.addEventListener("change", function () {
        if (box.checked) { show(box.value); } else { forget(box.value); }
      });
    });
    var lasso = canDesignate ? lassoTool(map, node, function (ring) {
      // the buildings of the basemap drawn now whose label point lies inside the ring
      var max = Number(d.maxSelection) || 200, n = Object.keys(selection).length, found = 0;
      if (drawn.basemap) {
        drawn.basemap.eachLayer(function (ly) {
          var p = ly.feature && ly.feature.properties;
          if (p && p.kind === "building" && p.label && inside(p.label[0], p.label[1], ring) && !selection[p.area] && n < max) {
            selection[p.area] = p.name; n += 1; found += 1;
          }
        });
      }
      renderSelection();
      return found;
    }) : null;
    var clear = document.getElementById("clear-selection");
    if (clear) { clear.addEventListener("click", function () { selection = {}; renderSelection(); if (lasso) { lasso.clear(); } }); }
    map.on("moveend", refresh);
    refresh();
    window.cordonMap = map;
  }

  document.addEventListener("DOMContentLoaded", function () {
    var node = document.getElementById("map");
    if (!node || typeof L === "undefined") { return; }
    L.Icon.Default.imagePath = node.dataset.images || "";
    if (node.dataset.geojson) { publicMap(node); } else { staffMap(node); }
  });
})();
