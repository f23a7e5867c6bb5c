package main

import (
	"bufio"
	"bytes"
	"errors"
	"fmt"
	"io"
	"net"
)

// The generator speaks HTTP/1.1 on raw TCP connections instead of going
// through net/http's client. It shares two cores with the server under test,
// and every CPU cycle it spends is one the server does not get: net/http's
// client allocates a few kilobytes and takes several locks per request,
// which on a 2-core box costs a large share of a core at 30k req/s and
// flattens the service/ceiling ratio toward 1. Here a request is bytes built
// once and written with one write (or writev), and a response is parsed in
// place from a reused bufio.Reader: no allocation per request.

// wireConn is one keep-alive HTTP/1.1 connection of the generator.
type wireConn struct {
	dial func() (net.Conn, error)
	c    net.Conn
	r    *bufio.Reader

	// vec is the writev vector of a multi-part request; arr is its backing
	// array, reused because net.Buffers.WriteTo consumes the vector.
	vec net.Buffers
	arr [4][]byte
}

func newWireConn(dial func() (net.Conn, error)) *wireConn {
	return &wireConn{dial: dial, r: bufio.NewReaderSize(nil, 32<<10)}
}

// roundTrip writes one request (the concatenation of parts) and reads its
// response, discarding the body. It returns the status code and the body's
// length. On an error, or when the server asks to close, the connection is
// closed and the next call dials again.
func (w *wireConn) roundTrip(parts [][]byte) (status int, bodyLen int64, err error) {
	if w.c == nil {
		c, err := w.dial()
		if err != nil {
			return 0, 0, fmt.Errorf("dial: %w", err)
		}
		w.c = c
		w.r.Reset(c)
	}
	if len(parts) == 1 {
		_, err = w.c.Write(parts[0])
	} else {
		w.vec = append(w.arr[:0], parts...)
		_, err = w.vec.WriteTo(w.c)
	}
	if err != nil {
		w.close()
		return 0, 0, fmt.Errorf("write: %w", err)
	}
	status, keepAlive, bodyLen, err := readResponse(w.r)
	if err != nil || !keepAlive {
		w.close()
	}
	return status, bodyLen, err
}

func (w *wireConn) close() {
	if w.c != nil {
		w.c.Close()
		w.c = nil
	}
}

var (
	errMalformed = errors.New("malformed HTTP response")

	hdrContentLength    = []byte("content-length")
	hdrTransferEncoding = []byte("transfer-encoding")
	hdrConnection       = []byte("connection")
	tokChunked          = []byte("chunked")
	tokClose            = []byte("close")
	tokKeepAlive        = []byte("keep-alive")
)

// readResponse reads one HTTP/1.x response from r and discards its body. It
// understands what a Go (or any ordinary) server sends: Content-Length,
// chunked transfer encoding, a body delimited by closing the connection, and
// Connection: close / keep-alive. keepAlive reports whether the connection
// may carry the next request.
func readResponse(r *bufio.Reader) (status int, keepAlive bool, bodyLen int64, err error) {
	line, err := r.ReadSlice('\n')
	if err != nil {
		return 0, false, 0, eofIsUnexpected(err)
	}
	// "HTTP/1.1 200 OK\r\n"
	if len(line) < 13 || !bytes.HasPrefix(line, []byte("HTTP/1.")) || line[8] != ' ' {
		return 0, false, 0, errMalformed
	}
	for _, c := range line[9:12] {
		if c < '0' || c > '9' {
			return 0, false, 0, errMalformed
		}
		status = status*10 + int(c-'0')
	}
	keepAlive = line[7] == '1' // HTTP/1.0 closes unless it says keep-alive
	contentLength, chunked := int64(-1), false
	for {
		line, err = r.ReadSlice('\n')
		if err != nil {
			return status, false, 0, eofIsUnexpected(err)
		}
		line = trimCRLF(line)
		if len(line) == 0 {
			break
		}
		colon := bytes.IndexByte(line, ':')
		if colon <= 0 {
			return status, false, 0, errMalformed
		}
		name, value := line[:colon], bytes.TrimSpace(line[colon+1:])
		switch {
		case bytes.EqualFold(name, hdrContentLength):
			n, ok := parseDecimal(value)
			if !ok {
				return status, false, 0, errMalformed
			}
			contentLength = n
		case bytes.EqualFold(name, hdrTransferEncoding):
			chunked = containsFold(value, tokChunked)
		case bytes.EqualFold(name, hdrConnection):
			if containsFold(value, tokClose) {
				keepAlive = false
			} else if containsFold(value, tokKeepAlive) {
				keepAlive = true
			}
		}
	}

	switch {
	case status < 200 || status == 204 || status == 304:
		// No body. (A 1xx is not expected: the generator sends no Expect.)
		return status, keepAlive, 0, nil
	case chunked:
		bodyLen, err = discardChunked(r)
		if err != nil {
			return status, false, bodyLen, err
		}
		return status, keepAlive, bodyLen, nil
	case contentLength >= 0:
		n, err := r.Discard(int(contentLength))
		if err != nil {
			return status, false, int64(n), eofIsUnexpected(err)
		}
		return status, keepAlive, contentLength, nil
	default:
		// The body runs until the server closes the connection.
		n, err := io.Copy(io.Discard, r)
		return status, false, n, err
	}
}

// discardChunked reads a chunked body and its trailers, returning the
// body's length.
func discardChunked(r *bufio.Reader) (int64, error) {
	var total int64
	for {
		line, err := r.ReadSlice('\n')
		if err != nil {
			return total, eofIsUnexpected(err)
		}
		line = trimCRLF(line)
		if i := bytes.IndexByte(line, ';'); i >= 0 { // chunk extensions
			line = line[:i]
		}
		size, ok := parseHex(bytes.TrimSpace(line))
		if !ok {
			return total, errMalformed
		}
		if size == 0 {
			for { // trailers, up to the empty line
				line, err := r.ReadSlice('\n')
				if err != nil {
					return total, eofIsUnexpected(err)
				}
				if len(trimCRLF(line)) == 0 {
					return total, nil
				}
			}
		}
		if _, err := r.Discard(int(size)); err != nil {
			return total, eofIsUnexpected(err)
		}
		total += size
		crlf, err := r.ReadSlice('\n')
		if err != nil {
			return total, eofIsUnexpected(err)
		}
		if len(trimCRLF(crlf)) != 0 {
			return total, errMalformed
		}
	}
}

func eofIsUnexpected(err error) error {
	if errors.Is(err, io.EOF) {
		return io.ErrUnexpectedEOF
	}
	if errors.Is(err, bufio.ErrBufferFull) {
		return fmt.Errorf("%w: header line longer than the read buffer", errMalformed)
	}
	return err
}

func trimCRLF(b []byte) []byte {
	if n := len(b); n > 0 && b[n-1] == '\n' {
		b = b[:n-1]
	}
	if n := len(b); n > 0 && b[n-1] == '\r' {
		b = b[:n-1]
	}
	return b
}

// parseDecimal parses a non-negative decimal number of at most 18 digits.
func parseDecimal(b []byte) (int64, bool) {
	if len(b) == 0 || len(b) > 18 {
		return 0, false
	}
	var n int64
	for _, c := range b {
		if c < '0' || c > '9' {
			return 0, false
		}
		n = n*10 + int64(c-'0')
	}
	return n, true
}

// parseHex parses a chunk size: a non-negative hex number of at most 15 digits.
func parseHex(b []byte) (int64, bool) {
	if len(b) == 0 || len(b) > 15 {
		return 0, false
	}
	var n int64
	for _, c := range b {
		var d byte
		switch {
		case c >= '0' && c <= '9':
			d = c - '0'
		case c >= 'a' && c <= 'f':
			d = c - 'a' + 10
		case c >= 'A' && c <= 'F':
			d = c - 'A' + 10
		default:
			return 0, false
		}
		n = n<<4 | int64(d)
	}
	return n, true
}

// containsFold reports whether the lowercase ASCII token tok occurs in s,
// ignoring ASCII case, without allocating.
func containsFold(s, tok []byte) bool {
	for i := 0; i+len(tok) <= len(s); i++ {
		if bytes.EqualFold(s[i:i+len(tok)], tok) {
			return true
		}
	}
	return false
}
