package shared

import "testing"

func TestClamp(t *testing.T) {
	for _, c := range []struct{ limit, bound, want int }{
		{0, 100, 100}, {-5, 100, 100}, {1, 100, 1}, {100, 100, 100}, {101, 100, 100},
	} {
		if got := Clamp(c.limit, c.bound); got != c.want {
			t.Errorf("Clamp(%d, %d) = %d, want %d", c.limit, c.bound, got, c.want)
		}
	}
}
