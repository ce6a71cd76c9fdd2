package realtime

import (
	"fmt"
	"net/http"
	"slices"
	"strings"
	"time"
)

// Dialect is the shape of the protocol a server speaks.
type Dialect int

const (
	// GA is the generally available protocol (session.type "realtime").
	GA Dialect = iota
	// Beta is the retired beta protocol (OpenAI-Beta: realtime=v1).
	Beta
)

func (d Dialect) String() string {
	switch d {
	case GA:
		return "ga"
	case Beta:
		return "beta"
	}
	return fmt.Sprintf("Dialect(%d)", int(d))
}

// ParseDialect parses "ga" or "beta".
func ParseDialect(s string) (Dialect, error) {
	switch strings.ToLower(s) {
	case "ga", "":
		return GA, nil
	case "beta":
		return Beta, nil
	}
	return GA, fmt.Errorf("realtime: dialect %q: want ga or beta", s)
}

// Profile names a service provider whose defaults fill URL, auth and limits.
type Profile string

// The known profiles.
const (
	OpenAI Profile = "openai"
	Azure  Profile = "azure"
	Yandex Profile = "yandex"
	Custom Profile = "custom"
)

// ParseProfile checks a profile name.
func ParseProfile(s string) (Profile, error) {
	p := Profile(strings.ToLower(s))
	switch p {
	case OpenAI, Azure, Yandex, Custom:
		return p, nil
	case "":
		return OpenAI, nil
	}
	return "", fmt.Errorf("realtime: profile %q: want openai, azure, yandex or custom", s)
}

// AuthStyle is how the API key is sent on the upgrade request.
type AuthStyle int

const (
	// AuthBearer sends "Authorization: Bearer KEY" (OpenAI, most local servers).
	AuthBearer AuthStyle = iota
	// AuthAPIKeyHeader sends "api-key: KEY" (Azure).
	AuthAPIKeyHeader
	// AuthAPIKeyScheme sends "Authorization: api-key KEY" (Yandex).
	AuthAPIKeyScheme
)

// ProfileDefaults are what a profile implies; the integrator fills the
// blanks of Options from them.
type ProfileDefaults struct {
	// URL is a template; {resource}, {deployment} and {folder} are for the
	// user to fill (see Profile.URL).
	URL         string
	Auth        AuthStyle
	Model       string
	Dialect     Dialect
	InputRates  []int // sample rates the service accepts for PCM16 input
	OutputRates []int // sample rates the service can produce
	// SessionMax is the documented session limit; the server's expires_at wins.
	SessionMax time.Duration
	Voices     []string
}

// Defaults returns the defaults of a profile. Custom has none but the
// protocol's own (24 kHz, bearer auth, GA).
func (p Profile) Defaults() ProfileDefaults {
	switch p {
	case OpenAI:
		return ProfileDefaults{
			URL: "wss://api.openai.com/v1/realtime?model={model}", Auth: AuthBearer,
			Model: "gpt-realtime", Dialect: GA,
			InputRates: []int{24000}, OutputRates: []int{24000}, SessionMax: 60 * time.Minute,
			Voices: []string{"alloy", "ash", "ballad", "coral", "echo", "sage", "shimmer", "verse", "marin", "cedar"},
		}
	case Azure:
		return ProfileDefaults{
			URL:  "wss://{resource}.openai.azure.com/openai/v1/realtime?model={model}",
			Auth: AuthAPIKeyHeader, Model: "gpt-realtime", Dialect: GA,
			InputRates: []int{24000}, OutputRates: []int{24000}, SessionMax: 30 * time.Minute,
			Voices: []string{"alloy", "ash", "ballad", "coral", "echo", "sage", "shimmer", "verse", "marin", "cedar"},
		}
	case Yandex:
		return ProfileDefaults{
			URL:  "wss://rest-assistant.api.cloud.yandex.net/v1/realtime/openai?model={model}",
			Auth: AuthAPIKeyScheme, Model: "gpt://{folder}/speech-realtime-250923", Dialect: GA,
			InputRates: []int{24000}, OutputRates: []int{24000, 44100}, SessionMax: 5 * time.Minute,
			Voices: []string{"marina", "dasha", "alena", "filipp", "jane", "omazh", "zahar", "ermil", "kirill", "anton", "alexander", "masha", "lera", "julia"},
		}
	}
	return ProfileDefaults{Auth: AuthBearer, Dialect: GA, InputRates: []int{24000},
		OutputRates: []int{24000}, SessionMax: 60 * time.Minute}
}

// URL expands the profile's URL template. For Azure, resource is the
// resource name; for Yandex, folder is the folder id used in the model URI.
// An empty model takes the profile's default.
func (p Profile) URL(model, resource, folder string) (string, error) {
	d := p.Defaults()
	if d.URL == "" {
		return "", fmt.Errorf("realtime: profile %s has no URL: set url", p)
	}
	if model == "" {
		model = d.Model
	}
	r := strings.NewReplacer("{resource}", resource, "{folder}", folder)
	model = r.Replace(model)
	u := strings.ReplaceAll(r.Replace(d.URL), "{model}", model)
	if strings.Contains(u, "{}") || strings.Contains(u, "//.") || strings.Contains(u, "gpt:///") {
		return "", fmt.Errorf("realtime: profile %s url %q: resource or folder missing", p, u)
	}
	return u, nil
}

// CheckRates reports whether the input and output rates are allowed.
func (d ProfileDefaults) CheckRates(in, out int) error {
	if len(d.InputRates) > 0 && !slices.Contains(d.InputRates, in) {
		return fmt.Errorf("realtime: input rate %d: want one of %v", in, d.InputRates)
	}
	if len(d.OutputRates) > 0 && !slices.Contains(d.OutputRates, out) {
		return fmt.Errorf("realtime: output rate %d: want one of %v", out, d.OutputRates)
	}
	return nil
}

// authHeader sets the upgrade request headers for an auth style and dialect.
func authHeader(h http.Header, a AuthStyle, key string, d Dialect) {
	if key != "" {
		switch a {
		case AuthAPIKeyHeader:
			h.Set("api-key", key)
		case AuthAPIKeyScheme:
			h.Set("Authorization", "api-key "+key)
		default:
			h.Set("Authorization", "Bearer "+key)
		}
	}
	if d == Beta {
		h.Set("OpenAI-Beta", "realtime=v1")
	}
}
