/* Draws one dataset on the portal's map (Leaflet): the gu areas coloured by the newest value
   of each gu, or one circle per place; read from the public records API like a download.
   The page shows its content without this; the map enhances it. */
(function () {
  "use strict";
  var box = document.getElementById("map");
  if (!box || !window.L) return;
  var d = box.dataset;
  var ko = document.documentElement.lang === "ko";
  var COLOURS = ["#ffffcc", "#c7e9b4", "#7fcdbb", "#41b6c4", "#1d91c0", "#225ea8", "#0c2c84"];
  var map = L.map(box, { zoomSnap: 0.25 }).setView([37.56, 126.99], 11);
  if (d.tiles) L.tileLayer(d.tiles, { maxZoom: 18 }).addTo(map);

  function latest(rows, where, time, value) {
    /* place -> mean value of the place's rows at its newest time */
    var kept = {};
    rows.forEach(function (r) {
      var v = r[value];
      if (v === null || v === undefined) return;
      var key = where.map(function (c) { return r[c]; }).join(",");
      var t = time ? String(r[time]) : "";
      var k = kept[key];
      if (!k || t > k.t) kept[key] = { t: t, sum: v, n: 1, row: r };
      else if (t === k.t) { k.sum += v; k.n += 1; }
    });
    var out = {};
    Object.keys(kept).forEach(function (key) {
      out[key] = { value: kept[key].sum / kept[key].n, row: kept[key].row };
    });
    return out;
  }

  function scale(values) {
    var lo = Math.min.apply(null, values), hi = Math.max.apply(null, values);
    return function (v) {
      var at = hi > lo ? (v - lo) / (hi - lo) : 0.5;
      return COLOURS[Math.min(COLOURS.length - 1, Math.floor(at * COLOURS.length))];
    };
  }

  function legend(values, colour) {
    var lo = Math.min.apply(null, values), hi = Math.max.apply(null, values);
    var control = L.control({ position: "bottomright" });
    control.onAdd = function () {
      var div = L.DomUtil.create("div", "legend");
      var title = document.createElement("div");
      title.textContent = d.label;
      div.appendChild(title);
      [lo, hi].forEach(function (v) {
        var line = document.createElement("div");
        var swatch = document.createElement("i");
        swatch.style.background = colour(v);
        line.appendChild(swatch);
        line.appendChild(document.createTextNode(v.toFixed(1)));
        div.appendChild(line);
      });
      return div;
    };
    control.addTo(map);
  }

  function shown(v) { return (Math.round(v * 10) / 10).toString(); }

  function text(words) {
    /* a tooltip's content as text, never as HTML */
    var span = document.createElement("span");
    span.textContent = words;
    return span;
  }

  Promise.all([
    fetch(d.geo).then(function (r) { return r.json(); }),
    fetch(d.src).then(function (r) {
      if (!r.ok) throw new Error("records API: HTTP " + r.status);
      return r.json();
    }),
  ]).then(function (got) {
    var geo = got[0], rows = got[1].items;
    var where = d.where.split(",");
    var places = latest(rows, where, d.time, d.value);
    var values = Object.keys(places).map(function (k) { return places[k].value; });
    var colour = scale(values.length ? values : [0]);
    var drawn = 0;
    var areas = L.geoJSON(geo, {
      style: function (f) {
        var p = d.kind === "gu" ? places[f.properties.code] : null;
        return p
          ? { color: "#555", weight: 1, fillColor: colour(p.value), fillOpacity: 0.75 }
          : { color: "#888", weight: 1, fillColor: "#f3f3f3", fillOpacity: d.kind === "gu" ? 0.4 : 0.1 };
      },
      onEachFeature: function (f, area) {
        var name = ko ? f.properties.name_ko : f.properties.name_en;
        var p = d.kind === "gu" ? places[f.properties.code] : null;
        area.bindTooltip(text(p ? name + ": " + shown(p.value) : name));
        if (p) drawn += 1;
      },
    }).addTo(map);
    if (d.kind === "points") {
      var bounds = [];
      Object.keys(places).forEach(function (key) {
        var xy = key.split(",").map(Number);  /* longitude, latitude */
        var p = places[key];
        L.circleMarker([xy[1], xy[0]], {
          radius: 6, color: "#333", weight: 1, fillColor: colour(p.value), fillOpacity: 0.9,
        }).bindTooltip(text(d.label + ": " + shown(p.value))).addTo(map);
        bounds.push([xy[1], xy[0]]);
        drawn += 1;
      });
      if (bounds.length) map.fitBounds(bounds, { padding: [20, 20], maxZoom: 15, animate: false });
    } else {
      map.fitBounds(areas.getBounds(), { animate: false });
    }
    if (values.length) legend(values, colour);
    box.dataset.drawn = String(drawn);
  }).catch(function (err) {
    box.dataset.drawn = "0";
    var note = document.createElement("p");
    note.textContent = String(err.message || err);
    box.parentNode.insertBefore(note, box.nextSibling);
  });
})();
