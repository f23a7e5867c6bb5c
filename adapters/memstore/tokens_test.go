package memstore_test

import (
	"testing"
	"time"

	"github.com/onestroke/onestroke/adapters/memstore"
	"github.com/onestroke/onestroke/ports"
	"github.com/onestroke/onestroke/ports/porttest"
)

func TestTokenSessionsContract(t *testing.T) {
	porttest.TestTokenSessionStore(t, func(t *testing.T) porttest.TokenSessionHarness {
		return porttest.TokenSessionHarness{Store: memstore.NewTokenSessions()}
	})
}

func TestLoginCodesContract(t *testing.T) {
	porttest.TestLoginCodes(t, func(t *testing.T) porttest.LoginCodesHarness {
		clock := porttest.NewClock(time.Date(2026, 12, 1, 9, 0, 0, 0, time.UTC))
		return porttest.LoginCodesHarness{Codes: memstore.NewLoginCodes(clock.Now), Advance: clock.Advance}
	})
}

func TestProfilesContract(t *testing.T) {
	porttest.TestProfileRepository(t, func(t *testing.T) ports.ProfileRepository { return memstore.NewProfiles() })
}
