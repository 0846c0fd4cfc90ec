package classify

import (
	"math"
	"math/rand/v2"
	"sync"
)

// linear is a trained one-vs-rest (or multinomial) linear scorer: the margin
// of class k for x is b[k] + Σ x[i]·w[i*K+k]. Weights are stored feature-major
// so one feature's weights for every class sit together.
//
// Once quantised (the form a finished model keeps, in memory and stored),
// w is nil and q holds the weights as int8 steps of scale[k].
type linear struct {
	k     int
	w     []float32
	b     []float32
	q     []int8
	scale []float32
}

func (l *linear) margins(x vector, out []float64) {
	k := l.k
	if l.q != nil {
		for c := range k {
			out[c] = 0
		}
		for j, i := range x.idx {
			v := float64(x.val[j])
			row := l.q[int(i)*k : int(i)*k+k]
			for c, q := range row {
				out[c] += v * float64(q)
			}
		}
		for c := range k {
			out[c] = out[c]*float64(l.scale[c]) + float64(l.b[c])
		}
		return
	}
	for c := range k {
		out[c] = float64(l.b[c])
	}
	for j, i := range x.idx {
		v := float64(x.val[j])
		row := l.w[int(i)*k : int(i)*k+k]
		for c, w := range row {
			out[c] += v * float64(w)
		}
	}
}

// trainer fits a linear scorer to vectors xs with class indices ys.
type trainer func(xs []vector, ys []int, dim, k int, o Options) *linear

var trainers = map[string]trainer{
	AlgoNBSVM:  trainSVM,
	AlgoSVM:    trainSVM,
	AlgoLogReg: trainLogReg,
	AlgoCNB:    trainCNB,
}

// The learning algorithms Train knows (MODEL.md compares them).
const (
	// AlgoNBSVM is AlgoSVM on features scaled, per class, by their naive
	// Bayes log-count ratio (Wang & Manning 2012); the default.
	AlgoNBSVM = "nbsvm"
	// AlgoSVM is a linear SVM with squared hinge loss, one-vs-rest, solved
	// by dual coordinate descent (LIBLINEAR's default solver, the one behind
	// scikit-learn's LinearSVC).
	AlgoSVM = "svm"
	// AlgoLogReg is multinomial logistic regression trained by SGD.
	AlgoLogReg = "logreg"
	// AlgoCNB is complement naive Bayes over the tf-idf vectors.
	AlgoCNB = "cnb"
)

// trainSVM runs one binary L2-regularised L2-loss SVM per class (Hsieh et
// al. 2008, dual coordinate descent), the bias learnt as a constant feature
// of value 1 as LIBLINEAR does. For AlgoNBSVM each class sees its features
// scaled by nbRatios, and the scale is folded into the weights afterwards,
// so the result is an ordinary linear scorer. Unless o.Unbalanced, an
// example of class c has C·n/(k·n_c): small classes are not drowned out.
// Classes are trained in parallel.
func trainSVM(xs []vector, ys []int, dim, k int, o Options) *linear {
	l := &linear{k: k, w: make([]float32, dim*k), b: make([]float32, k)}
	c := o.C
	if c <= 0 {
		c = 1
	}
	counts := make([]int, k)
	for _, y := range ys {
		counts[y]++
	}
	// diag[i] is 1/(2·C_i): the L2 loss's term on the dual's diagonal.
	diagOf := make([]float64, len(xs))
	qd := make([]float64, len(xs))
	for i, x := range xs {
		var s float64
		for _, v := range x.val {
			s += float64(v) * float64(v)
		}
		ci := c
		if !o.Unbalanced {
			ci = c * float64(len(xs)) / float64(k*counts[ys[i]])
		}
		diagOf[i] = 1 / (2 * ci)
		qd[i] = s + 1 + diagOf[i] // + the bias feature
	}
	parallel(k, o.Workers, func(cls int) {
		var r []float64
		qdc := qd
		if o.Algorithm == AlgoNBSVM {
			r = nbRatios(xs, ys, dim, cls, o.nbAlpha())
			qdc = make([]float64, len(xs))
			for i, x := range xs {
				var s float64
				for j, f := range x.idx {
					v := float64(x.val[j]) * r[f]
					s += v * v
				}
				qdc[i] = s + 1 + diagOf[i]
			}
		}
		w := make([]float64, dim)
		var bias float64
		alpha := make([]float64, len(xs))
		y := make([]float64, len(xs))
		for i := range xs {
			y[i] = -1
			if ys[i] == cls {
				y[i] = 1
			}
		}
		rng := rand.New(rand.NewPCG(o.Seed, uint64(cls)))
		perm := make([]int, len(xs))
		for i := range perm {
			perm[i] = i
		}
		for iter := 0; iter < o.maxIter(); iter++ {
			rng.Shuffle(len(perm), func(a, b int) { perm[a], perm[b] = perm[b], perm[a] })
			var maxPG float64
			for _, i := range perm {
				x := xs[i]
				g := bias
				if r != nil {
					for j, f := range x.idx {
						g += w[f] * float64(x.val[j]) * r[f]
					}
				} else {
					for j, f := range x.idx {
						g += w[f] * float64(x.val[j])
					}
				}
				g = g*y[i] - 1 + diagOf[i]*alpha[i]
				pg := g
				if alpha[i] == 0 && g > 0 {
					pg = 0
				}
				if math.Abs(pg) < 1e-12 {
					continue
				}
				maxPG = max(maxPG, math.Abs(pg))
				old := alpha[i]
				alpha[i] = max(old-g/qdc[i], 0)
				d := (alpha[i] - old) * y[i]
				if r != nil {
					for j, f := range x.idx {
						w[f] += d * float64(x.val[j]) * r[f]
					}
				} else {
					for j, f := range x.idx {
						w[f] += d * float64(x.val[j])
					}
				}
				bias += d
			}
			if maxPG < o.tol() {
				break
			}
		}
		for f, v := range w {
			if r != nil {
				v *= r[f]
			}
			l.w[f*k+cls] = float32(v)
		}
		l.b[cls] = float32(bias)
	})
	return l
}

// trainLogReg fits multinomial logistic regression by SGD with L2
// regularisation (λ = 1/(C·n)), a decaying step and averaged weights.
func trainLogReg(xs []vector, ys []int, dim, k int, o Options) *linear {
	c := o.C
	if c <= 0 {
		c = 10
	}
	n := len(xs)
	lambda := 1 / (c * float64(n))
	w := make([]float64, dim*k)
	b := make([]float64, k)
	// Averaged SGD: avg = w - u/t with the usual lazy bookkeeping would be
	// exact; plain averaging at epoch ends is enough here.
	avgW := make([]float64, dim*k)
	avgB := make([]float64, k)
	rng := rand.New(rand.NewPCG(o.Seed, 7))
	perm := make([]int, n)
	for i := range perm {
		perm[i] = i
	}
	p := make([]float64, k)
	scale := 1.0 // w is stored as scale·w to make the L2 shrink O(1)
	epochs := o.Epochs
	if epochs <= 0 {
		epochs = 15
	}
	eta0 := 0.5
	t := 0
	for ep := 0; ep < epochs; ep++ {
		rng.Shuffle(n, func(a, b int) { perm[a], perm[b] = perm[b], perm[a] })
		for _, i := range perm {
			t++
			eta := eta0 / (1 + eta0*lambda*float64(t))
			x := xs[i]
			for cl := range k {
				p[cl] = b[cl]
			}
			for j, f := range x.idx {
				v := float64(x.val[j]) * scale
				row := w[int(f)*k : int(f)*k+k]
				for cl := range k {
					p[cl] += v * row[cl]
				}
			}
			softmax(p, 1)
			p[ys[i]] -= 1
			scale *= 1 - eta*lambda
			if scale < 1e-9 {
				for f := range w {
					w[f] *= scale
				}
				scale = 1
			}
			for j, f := range x.idx {
				v := float64(x.val[j]) * eta / scale
				row := w[int(f)*k : int(f)*k+k]
				for cl := range k {
					row[cl] -= v * p[cl]
				}
			}
			for cl := range k {
				b[cl] -= eta * p[cl]
			}
		}
		if ep >= epochs/2 {
			for f := range w {
				avgW[f] += w[f] * scale
			}
			for cl := range k {
				avgB[cl] += b[cl]
			}
		}
	}
	m := float64(epochs - epochs/2)
	l := &linear{k: k, w: make([]float32, dim*k), b: make([]float32, k)}
	for f := range w {
		l.w[f] = float32(avgW[f] / m)
	}
	for cl := range k {
		l.b[cl] = float32(avgB[cl] / m)
	}
	return l
}

// trainCNB is complement naive Bayes (Rennie et al. 2003) with normalised
// weights: each class is scored by how unlike the other classes a text is.
func trainCNB(xs []vector, ys []int, dim, k int, o Options) *linear {
	const alpha = 0.3
	feat := make([]float64, dim*k) // Σ of feature values per class
	for i, x := range xs {
		for j, f := range x.idx {
			feat[int(f)*k+ys[i]] += float64(x.val[j])
		}
	}
	all := make([]float64, dim)
	for f := range dim {
		for c := range k {
			all[f] += feat[f*k+c]
		}
	}
	l := &linear{k: k, w: make([]float32, dim*k), b: make([]float32, k)}
	for c := range k {
		var tot float64
		for f := range dim {
			tot += all[f] - feat[f*k+c] + alpha
		}
		logs := make([]float64, dim)
		var sum float64
		for f := range dim {
			logs[f] = math.Log((all[f] - feat[f*k+c] + alpha) / tot)
			sum += math.Abs(logs[f])
		}
		for f := range dim {
			// Complement weights are negated so that a larger margin
			// means more likely, like the other algorithms.
			l.w[f*k+c] = float32(-logs[f] / sum * 1000)
		}
	}
	return l
}

// softmax turns margins into probabilities in place, margins scaled by t.
func softmax(m []float64, t float64) {
	mx := math.Inf(-1)
	for _, v := range m {
		mx = max(mx, v*t)
	}
	var s float64
	for i, v := range m {
		m[i] = math.Exp(v*t - mx)
		s += m[i]
	}
	for i := range m {
		m[i] /= s
	}
}

// parallel runs f(0)…f(n-1) on up to workers goroutines.
func parallel(n, workers int, f func(int)) {
	if workers <= 0 {
		workers = 2
	}
	var wg sync.WaitGroup
	next := make(chan int)
	for range min(workers, n) {
		wg.Go(func() {
			for i := range next {
				f(i)
			}
		})
	}
	for i := range n {
		next <- i
	}
	close(next)
	wg.Wait()
}

// nbRatios is NBSVM's log-count ratio of each feature for class cls against
// the rest: log((p/|p|₁)/(q/|q|₁)) with p, q the feature sums, smoothed by a.
func nbRatios(xs []vector, ys []int, dim, cls int, a float64) []float64 {
	p := make([]float64, dim)
	q := make([]float64, dim)
	for i, x := range xs {
		t := q
		if ys[i] == cls {
			t = p
		}
		for j, f := range x.idx {
			t[f] += float64(x.val[j])
		}
	}
	var sp, sq float64
	for f := range dim {
		p[f] += a
		q[f] += a
		sp += p[f]
		sq += q[f]
	}
	r := make([]float64, dim)
	for f := range dim {
		r[f] = math.Log((p[f] / sp) / (q[f] / sq))
	}
	return r
}
