package httpapi

import (
	"bytes"
	"fmt"
	"html"
	"strconv"
	"strings"
)

// The page is rendered by hand rather than with html/template: the template engine
// looks methods up by name at run time, which keeps every exported method of every
// type in the binary and added 2.2 MB to the stripped arm64 daemon (a 12 MB budget).
// What the page shows is text and quoted attribute values only, each escaped by esc.

// pageFile is one of web/*.html cut at its {{slot}}s: parts alternate static markup
// and a slot's name.
type pageFile []string

func mustPageFile(name string) pageFile {
	b, err := webFS.ReadFile("web/" + name)
	if err != nil {
		panic(err)
	}
	var p pageFile
	s := string(b)
	for {
		i := strings.Index(s, "{{")
		if i < 0 {
			return append(p, s)
		}
		j := strings.Index(s[i:], "}}")
		if j < 0 {
			panic("web/" + name + ": {{ without }}")
		}
		p = append(p, s[:i], s[i+2:i+j])
		s = s[i+j+2:]
	}
}

var (
	pageHead  = mustPageFile("head.html")
	pageLogin = mustPageFile("login.html")
	pageApp   = mustPageFile("app.html")
)

// renderPage writes the whole page for d.
func renderPage(b *bytes.Buffer, d *pageData) error {
	body := pageApp
	if d.Login {
		body = pageLogin
	}
	for _, f := range []pageFile{pageHead, body} {
		for i, part := range f {
			if i%2 == 0 {
				b.WriteString(part)
			} else if err := d.slot(b, part); err != nil {
				return err
			}
		}
	}
	b.WriteString("</body>\n</html>\n")
	return nil
}

// esc makes text safe in an element or a quoted attribute.
var esc = html.EscapeString

func yes(b bool, s string) string {
	if b {
		return s
	}
	return ""
}

func (d *pageData) slot(b *bytes.Buffer, name string) error {
	w := func(parts ...string) {
		for _, p := range parts {
			b.WriteString(p)
		}
	}
	switch name {
	case "csrf":
		w(esc(d.CSRF))
	case "login_note":
		w(esc(d.LoginNote))
	case "led_class":
		w(esc(d.LED.Class))
	case "led_text":
		w(esc(d.LED.Text))
	case "state":
		w(esc(d.State))
	case "flags":
		w(yes(d.Muted, ` <span id="muted-flag" class="flag">muted</span>`), yes(d.Paused, ` <span class="flag">paused</span>`))
	case "backend":
		if be, ok := d.Status["backend"].(map[string]any); ok {
			w("<dt>Backend</dt><dd>", esc(text(be["profile"])), " ", esc(text(be["model"])))
			if u := text(be["url"]); u != "" {
				w(" &middot; ", esc(u))
			}
			w("</dd>\n")
		}
	case "connection":
		w(esc(d.Connection))
	case "api_key":
		w(esc(text(d.Status["api_key"])))
	case "gpio":
		w(esc(cmp(d.GPIO, "-")))
	case "wake":
		if d.Wake != "" {
			w(`<dt>Wakes on</dt><dd id="wake">`, esc(d.Wake), "</dd>\n")
		}
	case "version":
		w(esc(d.Version))
	case "problems":
		if len(d.Problems) > 0 {
			w(`<ul class="problems">`)
			for _, p := range d.Problems {
				w("<li><b>", esc(p.What), "</b><br>What to do: ", esc(p.Do), "</li>")
			}
			w("</ul>\n")
		}
	case "devices":
		if len(d.Devices) > 0 {
			w(`<ul class="devs">`)
			for _, v := range d.Devices {
				w("<li><b>", esc(v.Role), "</b> <code>", esc(v.Device), "</code>",
					yes(v.Gone, ` <b class="err">gone: plug it back in, voiced reopens it</b>`),
					"<br><small>granted ", esc(v.Granted), " &middot; xruns ", esc(text(v.Xruns)), "</small></li>")
			}
			w("</ul>\n")
		}
	case "counters":
		if len(d.Counters) > 0 {
			w("<details><summary>Counters</summary><table>")
			for _, c := range d.Counters {
				w("<tr><td>", esc(c.Name), `</td><td class="num">`, esc(text(c.Value)), "</td></tr>")
			}
			w("</table></details>\n")
		}
	case "muted":
		w(strconv.FormatBool(d.Muted))
	case "paused":
		w(strconv.FormatBool(d.Paused))
	case "mute_label":
		w(cmp(yes(d.Muted, "Unmute"), "Mute"))
	case "pause_label":
		w(cmp(yes(d.Paused, "Resume"), "Pause"))
	case "volume":
		w(strconv.Itoa(d.Volume))
	case "etag":
		w(esc(d.ETag))
	case "settings":
		for _, g := range d.Groups {
			w(`<details class="group"`, yes(g.Name == "mode", " open"), "><summary>", esc(g.Name),
				" <small>(", strconv.Itoa(len(g.Fields)), ")</small></summary>\n")
			for i := range g.Fields {
				g.Fields[i].render(b)
			}
			w("</details>\n")
		}
	default:
		return fmt.Errorf("page: unknown slot {{%s}}", name)
	}
	return nil
}

// text is how the page prints a status value: JSON's numbers, strings and booleans as
// they read, nothing for a missing one.
func text(v any) string {
	switch v := v.(type) {
	case nil:
		return ""
	case string:
		return v
	case float64:
		return strconv.FormatFloat(v, 'g', -1, 64)
	default:
		return fmt.Sprint(v)
	}
}

func cmp(s, otherwise string) string {
	if s == "" {
		return otherwise
	}
	return s
}

// render writes one key's field of the settings form.
func (f *formField) render(b *bytes.Buffer) {
	w := func(parts ...string) {
		for _, p := range parts {
			b.WriteString(p)
		}
	}
	p := esc(f.Path)
	common := ` id="f-` + p + `" name="` + p + `" data-kind="` + esc(string(f.Kind)) + `"`
	disabled := yes(f.Fixed, " disabled")
	w(`<div class="field`, yes(f.Fixed, " fixed"), `" data-path="`, p, `">`, "\n")
	w(`<label for="f-`, p, `">`, p)
	if f.Unit != "" {
		w(" <small>(", esc(f.Unit), ")</small>")
	}
	w("</label>\n")
	switch f.Input {
	case "checkbox":
		w(`<input type="checkbox"`, common, yes(f.Value == "true", " checked"), disabled, ">\n")
	case "select":
		w("<select", common, disabled, ">")
		for _, c := range f.Choices {
			w(`<option value="`, esc(c), `"`, yes(c == f.Value, " selected"), ">", esc(cmp(c, "(default)")), "</option>")
		}
		w("</select>\n")
	case "textarea":
		w("<textarea", common, ` rows="3"`, disabled, ">", esc(f.Value), "</textarea>\n")
	case "password":
		w(`<input type="password"`, common, ` data-secret="1" autocomplete="off" placeholder="unchanged (write-only)">`, "\n")
	default:
		w(`<input type="`, esc(f.Input), `"`, common, ` value="`, esc(f.Value), `"`)
		if f.Ranged {
			w(` min="`, text(f.Min), `" max="`, text(f.Max), `"`)
		}
		if f.Step != "" {
			w(` step="`, esc(f.Step), `"`)
		}
		if len(f.Options) > 0 {
			w(` list="l-`, p, `"`)
		}
		w(disabled, ">\n")
		if len(f.Options) > 0 {
			w(`<datalist id="l-`, p, `">`)
			for _, o := range f.Options {
				w(`<option value="`, esc(o), `">`)
			}
			w("</datalist>")
		}
	}
	w(`<small class="help">`, esc(f.Help))
	if f.Ranged {
		w(" Range ", esc(f.RangeText()), ".")
	}
	w(" Default: <code>", esc(f.Default()), "</code>.</small>\n", `<small class="err" data-error></small>`, "\n</div>\n")
}
