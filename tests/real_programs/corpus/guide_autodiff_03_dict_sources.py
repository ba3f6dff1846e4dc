# Origin: tensorflow/docs site/en/guide/autodiff.ipynb, cell d73cY6NOuaMd (a dictionary of sources).
# Changes: fixed values instead of tf.random.normal; the displayed value is printed.
import tensorflow as tf

w = tf.Variable([[0.5, -1.0], [0.25, 2.0], [-0.75, 1.5]], name="w")
b = tf.Variable(tf.zeros(2, dtype=tf.float32), name="b")
x = [[1.0, 2.0, 3.0]]
with tf.GradientTape(persistent=True) as tape:
    y = x @ w + b
    loss = tf.reduce_mean(y**2)
my_vars = {"w": w, "b": b}
grad = tape.gradient(loss, my_vars)
print(repr(grad["b"]))
print(sorted(grad))
