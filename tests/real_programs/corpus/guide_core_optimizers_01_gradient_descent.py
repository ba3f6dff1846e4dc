# Origin: tensorflow/docs site/en/guide/core/optimizers_core.ipynb, cells 9xQKvCJ85kCQ, MWjmUmeOQFFN,
# VCtJaUo6Ry8V, SLQTc41ouv0F, lWRn8c91mqB0, rOBY8Tz4S0dX, tA6oQL-sW2xg (gradient descent and momentum
# optimizers written with a tape, convergence tests).
# Changes: tf.Module becomes a plain base class (out of scope); print(tf.__version__) and the plots
# are left out; max_iters is 100 instead of 2000 (the test's time; the guide's loop is unchanged).
import tensorflow as tf

tf.random.set_seed(22)


class GradientDescent:
    def __init__(self, learning_rate=1e-3):
        self.learning_rate = learning_rate
        self.title = f"Gradient descent optimizer: learning rate={self.learning_rate}"

    def apply_gradients(self, grads, vars):
        for grad, var in zip(grads, vars):  # noqa: B905 - as the guide writes it
            var.assign_sub(self.learning_rate * grad)


x_vals = tf.linspace(-2, 2, 201)
x_vals = tf.cast(x_vals, tf.float32)


def loss(x):
    return 2 * (x**4) + 3 * (x**3) + 2


def grad(f, x):
    with tf.GradientTape() as tape:
        tape.watch(x)
        result = f(x)
    return tape.gradient(result, x)


print(x_vals.dtype, loss(x_vals).shape, grad(loss, x_vals)[:3].numpy())


def convergence_test(optimizer, loss_fn, grad_fn=grad, init_val=2.0, max_iters=100):
    print(optimizer.title)
    print("-------------------------------")
    x_star = tf.Variable(init_val)
    param_path = []
    converged = False
    for iter in range(1, max_iters + 1):
        x_grad = grad_fn(loss_fn, x_star)
        if tf.math.is_nan(x_grad):
            print(f"Gradient exploded at iteration {iter}\n")
            return []
        x_old = x_star.numpy()
        optimizer.apply_gradients([x_grad], [x_star])
        param_path.append(x_star.numpy())
        if x_star == x_old:
            print(f"Converged in {iter} iterations\n")
            converged = True
            break
    if not converged:
        print(f"Exceeded maximum of {max_iters} iterations. Test terminated.\n")
    return param_path


param_map_gd = {}
learning_rates = [1e-3, 1e-2, 1e-1]
for learning_rate in learning_rates:
    param_map_gd[learning_rate] = convergence_test(
        GradientDescent(learning_rate=learning_rate), loss_fn=loss
    )


class Momentum:
    def __init__(self, learning_rate=1e-3, momentum=0.7):
        self.learning_rate = learning_rate
        self.momentum = momentum
        self.change = 0.0
        self.title = f"Gradient descent optimizer: learning rate={self.learning_rate}"

    def apply_gradients(self, grads, vars):
        for grad, var in zip(grads, vars):  # noqa: B905 - as the guide writes it
            curr_change = self.learning_rate * grad + self.momentum * self.change
            var.assign_sub(curr_change)
            self.change = curr_change


param_map_mtm = {}
for learning_rate in learning_rates:
    param_map_mtm[learning_rate] = convergence_test(
        Momentum(learning_rate=learning_rate), loss_fn=loss, grad_fn=grad
    )
print({lr: len(path) for lr, path in param_map_gd.items()})
print({lr: (len(path), path[-1] if path else None) for lr, path in param_map_mtm.items()})
