# Origin: tensorflow/tensorflow tensorflow/python/eager/backprop_test.py, testHigherOrderGradient + testPersistentNestedTape + testGradientTape.
# Changes: public tf names; asserts become prints.
import tensorflow as tf

with tf.GradientTape(persistent=True) as g:
    x = tf.constant(3.0)
    g.watch(x)
    y = x**3
    dy_dx = g.gradient(y, x)
    d2y_dx2 = g.gradient(dy_dx, x)
d3y_dx3 = g.gradient(d2y_dx2, x)
print(y.numpy(), dy_dx.numpy(), d2y_dx2.numpy(), d3y_dx3.numpy())

with tf.GradientTape(persistent=True) as g:
    x = tf.constant(3.0)
    g.watch(x)
    y = x * x
    with tf.GradientTape(persistent=True) as gg:
        gg.watch(y)
        z = 2 * y
    for _ in range(2):
        inner_grad = gg.gradient(z, [y])[0]
        print(inner_grad.numpy())
    y += inner_grad
    del gg
print(g.gradient(y, [x])[0].numpy())
print(g.gradient(z, [x])[0].numpy())
