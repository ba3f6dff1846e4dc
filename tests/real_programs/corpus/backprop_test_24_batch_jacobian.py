# Origin: tensorflow/tensorflow tensorflow/python/eager/backprop_test.py, BatchJacobianTest._batch_jacobian (testPfor, testWhileLoop), testPersistentTape,
# testBadShape, testBadInputRank, testBadOutputRank, test_degenerate_shape (eager, no function).
# Changes: random_uniform inputs replaced by tf.ones/fixed values; assertAllEqual -> NumPy comparison; asserts become prints.
import tensorflow as tf

for use_pfor in (True, False):
    with tf.GradientTape(persistent=not use_pfor) as g:
        x = tf.constant([[1.0, 2.0], [3.0, 4.0]])
        y = tf.constant([[3.0, 4.0], [5.0, 6.0]])
        g.watch(x)
        z = x * x * y
    batch_jacobian = g.batch_jacobian(z, x, experimental_use_pfor=use_pfor)
    answer = tf.stack([tf.linalg.diag(2 * x[0] * y[0]), tf.linalg.diag(2 * x[1] * y[1])])
    print(batch_jacobian.numpy().tolist(), bool((answer.numpy() == batch_jacobian.numpy()).all()))

with tf.GradientTape() as g:
    x = tf.constant([[1.0, 2.0]])
    g.watch(x)
    y = x * x
try:
    g.batch_jacobian(y, x, experimental_use_pfor=False)
except RuntimeError as error:
    print("RuntimeError:", error)

for x_shape, make_y in (
    ([2, 3], lambda x: tf.concat([x, x], axis=0)),
    ([2], lambda x: tf.ones([2, 2])),
    ([2, 2], lambda x: tf.ones([2])),
):
    x = tf.ones(x_shape)
    with tf.GradientTape() as g:
        y = make_y(x)
    try:
        g.batch_jacobian(y, x)
    except ValueError as error:
        print("ValueError:", error)

for use_pfor in (True, False):
    x = tf.zeros([1, 0])
    with tf.GradientTape(persistent=True) as tape:
        tape.watch(x)
        y = x**2
    print(tf.shape(tape.batch_jacobian(y, x, experimental_use_pfor=use_pfor)))
