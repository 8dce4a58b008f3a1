package admin

import "crypto/rand"

// idLen is the length of every server-assigned id, as in Amazon API Gateway.
const idLen = 10

// idAlphabet is the set of characters ids are made of. Lowercase only, so an
// id survives case-insensitive places such as DNS names and file systems.
const idAlphabet = "abcdefghijklmnopqrstuvwxyz0123456789"

// newID returns a random id of idLen characters from idAlphabet. Ids come
// from crypto/rand so they cannot be guessed from each other.
func newID() string { return randomString(idAlphabet, idLen) }

// randomString returns n characters of alphabet from crypto/rand. Bytes
// that would bias the choice (when 256 is not a multiple of the alphabet's
// size) are drawn again. rand.Read never fails: the runtime aborts if the
// system's source does.
func randomString(alphabet string, n int) string {
	limit := 256 - 256%len(alphabet)
	out := make([]byte, 0, n)
	buf := make([]byte, n*2)
	for len(out) < n {
		_, _ = rand.Read(buf)
		for _, b := range buf {
			if int(b) < limit && len(out) < n {
				out = append(out, alphabet[int(b)%len(alphabet)])
			}
		}
	}
	return string(out)
}

// validID reports whether id has the form newID produces.
func validID(id string) bool {
	if len(id) != idLen {
		return false
	}
	for i := 0; i < len(id); i++ {
		c := id[i]
		if (c < 'a' || c > 'z') && (c < '0' || c > '9') {
			return false
		}
	}
	return true
}
