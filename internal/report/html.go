package report

// CSPMeta is the Content-Security-Policy every HTML report carries, as a
// second defence behind html/template's escaping: a report is opened from
// disk or an attachment, and whatever a cluster's names and messages
// managed to put in it must neither run a script nor load anything from
// elsewhere (no tracking pixel, no remote style, no form that posts the
// page away). The pages need only their inline style sheet and inline SVG.
const CSPMeta = `<meta http-equiv="Content-Security-Policy" content="default-src 'none'; style-src 'unsafe-inline'; img-src data:; base-uri 'none'; form-action 'none'">`
