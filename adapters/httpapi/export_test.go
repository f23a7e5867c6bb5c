package httpapi

// The session header keys, for tests.
const (
	HeaderCode      = headerCode
	HeaderRawData   = headerRawData
	HeaderSignature = headerSignature
)
