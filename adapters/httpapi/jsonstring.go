package httpapi

import (
	"bytes"

	"github.com/onestroke/onestroke/domain"
)

// appendJSONString writes s to b as a JSON string, as encoding/json does
// with HTML escaping off.
func appendJSONString(b *bytes.Buffer, s string) {
	b.Grow(len(s) + len(s)/8 + 2) // room for the usual share of escaped quotes
	b.Write(domain.AppendJSONString(b.AvailableBuffer(), s))
}
