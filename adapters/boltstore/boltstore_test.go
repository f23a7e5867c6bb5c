package boltstore_test

import (
	"context"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/onestroke/onestroke/adapters/boltstore"
	"github.com/onestroke/onestroke/domain"
	"github.com/onestroke/onestroke/ports"
	"github.com/onestroke/onestroke/ports/porttest"
)

func open(t *testing.T, dir string) *boltstore.Repository {
	t.Helper()
	repo, err := boltstore.Open(dir)
	require.NoError(t, err)
	t.Cleanup(func() { repo.Close() })
	return repo
}

func TestDrawingRepositoryContract(t *testing.T) {
	porttest.TestDrawingRepository(t, func(t *testing.T) ports.DrawingRepository { return open(t, t.TempDir()) })
}

func TestRepository_DrawingsSurviveReopen(t *testing.T) {
	dir := t.TempDir()
	repo, err := boltstore.Open(dir)
	require.NoError(t, err)
	at := time.Date(2026, 11, 25, 8, 0, 0, 123456789, time.UTC)
	require.NoError(t, repo.Save(context.Background(), "oALICE", "d1", func(*domain.Drawing) (*domain.Drawing, error) {
		return domain.NewDrawing("oALICE", "d1", `[1]`, at, domain.DefaultMaxActionsBytes)
	}))
	require.NoError(t, repo.Close())

	got, err := open(t, dir).List(context.Background(), "oALICE", 10)
	require.NoError(t, err)
	require.Len(t, got, 1)
	assert.Equal(t, `[1]`, got[0].Actions())
	assert.True(t, at.Equal(got[0].CreatedAt()))
}

func TestOpen_SecondOpenOfALockedFileFailsClearly(t *testing.T) {
	dir := t.TempDir()
	open(t, dir)
	_, err := boltstore.Open(dir)
	require.Error(t, err)
	assert.Contains(t, err.Error(), "locked by another process")
}

func TestRepository_PingAnswers(t *testing.T) {
	assert.NoError(t, open(t, t.TempDir()).Ping(context.Background()))
}
