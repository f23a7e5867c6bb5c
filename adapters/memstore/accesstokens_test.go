package memstore_test

import (
	"testing"

	"github.com/onestroke/onestroke/adapters/memstore"
	"github.com/onestroke/onestroke/ports/porttest"
)

func TestAccessTokensContract(t *testing.T) {
	porttest.TestAccessTokenStore(t, func(t *testing.T, clock *porttest.Clock) porttest.AccessTokenStoreHarness {
		return porttest.AccessTokenStoreHarness{Store: memstore.NewAccessTokens(clock.Now), Advance: clock.Advance}
	})
}
