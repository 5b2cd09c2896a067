package keylock

import (
	"sync"
	"testing"
)

func TestLockSerialisesOneKeyAndForgetsIt(t *testing.T) {
	var l Locks
	var wg sync.WaitGroup
	n, inside := 0, 0
	for range 50 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			unlock := l.Lock("repository/r1")
			inside++
			if inside != 1 {
				t.Errorf("%d holders of one key", inside)
			}
			n++
			inside--
			unlock()
		}()
	}
	wg.Wait()
	if n != 50 {
		t.Fatalf("ran %d of 50", n)
	}
	if len(l.m) != 0 {
		t.Fatalf("%d entries left after every release", len(l.m))
	}
	a := l.Lock("a")
	b := l.Lock("b") // another key does not wait
	b()
	a()
}
