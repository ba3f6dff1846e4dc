# Origin: tensorflow/tensorflow tensorflow/python/eager/backprop_test.py, testCustomGradientInEagerAndGraph + testCustomGradientIdentity + testCustomGradient
# (a custom my_mul in a small gradient-descent loop).
# Changes: gradients_function / implicit_val_and_grad written as tapes; asserts become prints.
import tensorflow as tf


@tf.custom_gradient
def f(x):
    y = x * x

    def grad(dy):
        return [4 * dy]

    return y, grad


with tf.GradientTape() as t:
    c = tf.constant(1.0)
    t.watch(c)
    g = f(c)
print(t.gradient(g, c))


@tf.custom_gradient
def my_identity(x):
    def grad(dresult):
        return [2 * dresult]

    return x, grad


x = tf.constant(1.0)
with tf.GradientTape() as t:
    t.watch(x)
    y = my_identity(x)
print(t.gradient(y, x))


@tf.custom_gradient
def my_mul(x, y):
    result = x * y

    def grad(dr):
        return [dr * y, dr * x]

    return result, grad


lr = 0.25
x = tf.Variable(2.0, name="x")
losses = []
for _ in range(5):
    with tf.GradientTape() as t:
        loss = my_mul(2.0, x.read_value())
    losses.append(loss.numpy())
    x.assign_sub(lr * t.gradient(loss, x))
print(losses)
