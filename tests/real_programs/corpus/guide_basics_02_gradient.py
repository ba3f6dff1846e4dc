# Origin: tensorflow/docs site/en/guide/basics.ipynb, cells cYKOi-z4GY9Y, IQz99cxMGoF_, N02NfWpHGvw8 ("Automatic differentiation").
# Changes: the notebook's displayed values are printed with repr.
import tensorflow as tf

x = tf.Variable(1.0)


def f(x):
    y = x**2 + 2 * x - 5
    return y


print(repr(f(x)))
with tf.GradientTape() as tape:
    y = f(x)
g_x = tape.gradient(y, x)  # g(x) = dy/dx
print(repr(g_x))
