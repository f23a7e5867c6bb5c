package memstore_test

import (
	"testing"

	"github.com/onestroke/onestroke/adapters/memstore"
	"github.com/onestroke/onestroke/ports"
	"github.com/onestroke/onestroke/ports/porttest"
)

func TestDrawingRepositoryContract(t *testing.T) {
	porttest.TestDrawingRepository(t, func(t *testing.T) ports.DrawingRepository { return memstore.NewDrawings() })
}

func BenchmarkPage_FirstPage(b *testing.B) {
	porttest.BenchmarkPageFirstPage(b, func(*testing.B) ports.DrawingRepository { return memstore.NewDrawings() })
}
